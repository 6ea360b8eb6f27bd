/** Decoders of struct wl_tcp_event and struct wl_tcp_note (bpf/include/events.h). */
import { EV, FLAG, NOTE, WL_HDR, WL_TCP_EVENT, WL_TCP_HEALTH, WL_TCP_NOTE } from './layout';
import type { Proc } from '../model/packet';
import { RecordHeader, SockInfo, decodeHeader, decodeProc, decodeSock, u64 } from './record';

export type TcpDirection = 'active' | 'passive' | 'unknown';

export type TcpEventKind = 'open' | 'close' | 'retransmit' | 'reset' | 'drop' | 'rtt';
export const TCP_EVENT_KINDS: readonly TcpEventKind[] = ['open', 'close', 'retransmit', 'reset', 'drop', 'rtt'];

/** A TCP socket's own figures (struct tcp_sock). */
export interface TcpHealth {
  srttUs: number;
  /** null: no RTT sample yet. */
  minRttUs: number | null;
  /** Segments retransmitted over the connection's life. */
  retrans: number;
  /** Segments marked lost over its life. */
  lost: number;
  cwnd: number;
}

export interface TcpRecord {
  tool: 'tcp';
  tsNs: number;
  event: TcpEventKind;
  /** The socket's owner (a ProcInfo from the kernel; from a capture file, what its comments said). */
  proc: Proc | null;
  /** The socket's ends (local first); for a packet without a socket, the packet's (source first). */
  sock: SockInfo;
  direction: TcpDirection;
  /** close: lifetime since first state seen; null when it predates wirelens. */
  durationNs: number | null;
  txBytes: number;
  rxBytes: number;
  /** close: false when the connection never completed its handshake. */
  established: boolean;
  oldState: string;
  newState: string;
  /** close and the socket events: the socket's figures; null otherwise. */
  health: TcpHealth | null;
  /** The socket's state at the event; null without a socket. */
  state: string | null;
  /** drop: the kernel's drop reason name. */
  reason: string | null;
  /** reset: sent or received. */
  resetDirection: 'sent' | 'received' | null;
  /** retransmit: segments in the retransmitted packet. */
  segments: number | null;
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

const state = (i: number): string => TCP_STATES[i] ?? `STATE_${i}`;

function decodeHealth(v: DataView, off: number): TcpHealth {
  const f = WL_TCP_HEALTH.fields;
  const minRtt = v.getUint32(off + f.min_rtt_us, true);
  return {
    srttUs: v.getUint32(off + f.srtt_us, true),
    minRttUs: minRtt === 0xffffffff ? null : minRtt,
    retrans: v.getUint32(off + f.retrans, true),
    lost: v.getUint32(off + f.lost, true),
    cwnd: v.getUint32(off + f.cwnd, true),
  };
}

/** Names the kernel's drop reasons (enum skb_drop_reason). */
export type ReasonNames = (reason: number) => string;

export function decodeTcpEvent(v: DataView, off: number, len: number, reasonName: ReasonNames): TcpRecord | null {
  if (len < WL_HDR.size) return null;
  const hdr = decodeHeader(v, off);
  if (hdr.type === EV.TCP_NOTE) return decodeNote(v, off, len, hdr, reasonName);
  if (len < WL_TCP_EVENT.size || (hdr.type !== EV.TCP_OPEN && hdr.type !== EV.TCP_CLOSE)) return null;
  const f = WL_TCP_EVENT.fields;
  const close = hdr.type === EV.TCP_CLOSE;
  return {
    tool: 'tcp',
    tsNs: hdr.tsNs,
    event: close ? 'close' : 'open',
    proc: decodeProc(v, off + f.proc, hdr.flags),
    sock: decodeSock(v, off + f.sock),
    direction: DIRECTIONS[v.getUint8(off + f.direction)] ?? 'unknown',
    durationNs: hdr.flags & FLAG.START_UNKNOWN ? null : u64(v, off + f.duration_ns),
    txBytes: u64(v, off + f.tx_bytes),
    rxBytes: u64(v, off + f.rx_bytes),
    established: (hdr.flags & FLAG.NOT_ESTABLISHED) === 0,
    oldState: state(v.getUint8(off + f.oldstate)),
    newState: state(v.getUint8(off + f.newstate)),
    health: close ? decodeHealth(v, off + f.health) : null,
    state: state(v.getUint8(off + f.newstate)),
    reason: null,
    resetDirection: null,
    segments: null,
  };
}

const NOTE_EVENTS: Record<number, TcpEventKind> = {
  [NOTE.RETRANSMIT]: 'retransmit',
  [NOTE.RESET_SENT]: 'reset',
  [NOTE.RESET_RECV]: 'reset',
  [NOTE.DROP]: 'drop',
  [NOTE.RTT]: 'rtt',
};

function decodeNote(
  v: DataView,
  off: number,
  len: number,
  hdr: RecordHeader,
  reasonName: ReasonNames,
): TcpRecord | null {
  const f = WL_TCP_NOTE.fields;
  if (len < WL_TCP_NOTE.size) return null;
  const kind = v.getUint8(off + f.kind);
  const event = NOTE_EVENTS[kind];
  if (!event) return null;
  const hasSock = v.getUint8(off + f.has_sock) === 1;
  const st = state(v.getUint8(off + f.state));
  return {
    tool: 'tcp',
    tsNs: hdr.tsNs,
    event,
    proc: decodeProc(v, off + f.proc, hdr.flags),
    sock: decodeSock(v, off + f.sock),
    direction: 'unknown',
    durationNs: null,
    txBytes: 0,
    rxBytes: 0,
    established: true,
    oldState: st,
    newState: st,
    health: hasSock ? decodeHealth(v, off + f.health) : null,
    state: hasSock ? st : null,
    reason: kind === NOTE.DROP ? reasonName(v.getUint32(off + f.reason, true)) : null,
    resetDirection: kind === NOTE.RESET_SENT ? 'sent' : kind === NOTE.RESET_RECV ? 'received' : null,
    segments: kind === NOTE.RETRANSMIT ? v.getUint16(off + f.segs, true) : null,
  };
}
