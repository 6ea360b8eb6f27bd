/** Decoder of struct wl_tcp_event (bpf/include/events.h). */
import { EV, FLAG, WL_TCP_EVENT } from './layout';
import { ProcInfo, SockInfo, decodeHeader, decodeProc, decodeSock } from './record';

export type TcpDirection = 'active' | 'passive' | 'unknown';

export interface TcpRecord {
  tool: 'tcp';
  tsNs: bigint;
  event: 'open' | 'close';
  proc: ProcInfo | null;
  sock: SockInfo;
  direction: TcpDirection;
  /** close: lifetime since first state seen; null when it predates wirelens. */
  durationNs: bigint | null;
  txBytes: bigint;
  rxBytes: bigint;
  /** close: false when the connection never completed its handshake. */
  established: boolean;
  oldState: string;
  newState: string;
}

export const TCP_STATES = [
  'UNKNOWN',
  'ESTABLISHED',
  'SYN_SENT',
  'SYN_RECV',
  'FIN_WAIT1',
  'FIN_WAIT2',
  'TIME_WAIT',
  'CLOSE',
  'CLOSE_WAIT',
  'LAST_ACK',
  'LISTEN',
  'CLOSING',
  'NEW_SYN_RECV',
  'BOUND_INACTIVE',
] as const;

const DIRECTIONS: TcpDirection[] = ['unknown', 'active', 'passive'];

export function decodeTcpEvent(v: DataView, off: number, len: number): TcpRecord | null {
  if (len < WL_TCP_EVENT.size) return null;
  const f = WL_TCP_EVENT.fields;
  const hdr = decodeHeader(v, off + f.hdr);
  if (hdr.type !== EV.TCP_OPEN && hdr.type !== EV.TCP_CLOSE) return null;
  const state = (i: number): string => TCP_STATES[i] ?? `STATE_${i}`;
  return {
    tool: 'tcp',
    tsNs: hdr.tsNs,
    event: hdr.type === EV.TCP_OPEN ? 'open' : 'close',
    proc: decodeProc(v, off + f.proc, hdr.flags),
    sock: decodeSock(v, off + f.sock),
    direction: DIRECTIONS[v.getUint8(off + f.direction)] ?? 'unknown',
    durationNs: hdr.flags & FLAG.START_UNKNOWN ? null : v.getBigUint64(off + f.duration_ns, true),
    txBytes: v.getBigUint64(off + f.tx_bytes, true),
    rxBytes: v.getBigUint64(off + f.rx_bytes, true),
    established: (hdr.flags & FLAG.NOT_ESTABLISHED) === 0,
    oldState: state(v.getUint8(off + f.oldstate)),
    newState: state(v.getUint8(off + f.newstate)),
  };
}
