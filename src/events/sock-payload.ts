/** Decoder of struct wl_sp_event (bpf/include/events.h): DNS or TLS bytes of one packet of a local socket. */
import { EV, SP, WL_HDR, WL_SP_EVENT } from './layout';
import { ProcInfo, SockInfo, decodeProc, decodeSock, u64 } from './record';

export interface PayloadChunk {
  /** CLOCK_MONOTONIC ns of the packet (every chunk of one packet has the same); exact below 2^53 ns (104 days up). */
  tsNs: number;
  /** The socket's owner; tid is its pid (packets carry no thread). */
  proc: ProcInfo | null;
  /** The packet's ends, this host's in saddr/sport. */
  sock: SockInfo;
  /** Socket cookie: one per socket for the boot, never reused (a counter from 1: a number). */
  conn: number;
  kind: 'dns' | 'tls';
  transport: 'udp' | 'tcp';
  /** egress: this host's socket sent it; ingress: it received it. */
  dir: 'egress' | 'ingress';
  /** UDP: the datagram's bytes. TCP: the packet's bytes from `stream` on that the kernel copies (its records together). */
  len: number;
  /** Where `bytes` start: in the datagram (UDP), or from `stream` (TCP). */
  off: number;
  /** TCP: the place of the packet's first copied byte in its direction's stream; `bytes` are at stream + off. */
  stream: number;
  /** TCP: the direction ends at stream + len (FIN; RST, only one the socket took). */
  fin: boolean;
  rst: boolean;
  /** TCP: the kernel copies nothing of this direction past stream + len (its copy limit). */
  limit: boolean;
  /** With `limit`: the packet went on past what the kernel copies of one packet. */
  cut: boolean;
  /**
   * TCP: seen on a listening socket (the segment that completed the
   * handshake, or a TFO SYN's data): `conn` is the listener's; the
   * connection it made has the same netns and ends and carries on from it.
   */
  listener: boolean;
  /** A view into the ring's batch: copy it to keep it. */
  bytes: Uint8Array;
}

export function decodeSockPayload(v: DataView, off: number, len: number): PayloadChunk | null {
  if (len < WL_SP_EVENT.size) return null;
  const f = WL_SP_EVENT.fields;
  if (v.getUint16(off + f.hdr + WL_HDR.fields.type, true) !== EV.SOCK_PAYLOAD) return null;
  const kind = v.getUint8(off + f.kind);
  if (kind !== SP.DNS && kind !== SP.TLS) return null;
  const flags = v.getUint16(off + f.hdr + WL_HDR.fields.flags, true);
  const cap = v.getUint16(off + f.cap, true);
  if (cap > len - WL_SP_EVENT.size) return null;
  const sock = decodeSock(v, off + f.sock);
  const tf = v.getUint8(off + f.flags);
  return {
    tsNs: u64(v, off + f.hdr + WL_HDR.fields.ts_ns),
    proc: decodeProc(v, off + f.proc, flags),
    sock,
    conn: u64(v, off + f.conn),
    kind: kind === SP.DNS ? 'dns' : 'tls',
    transport: sock.protocol === 6 ? 'tcp' : 'udp',
    dir: v.getUint8(off + f.dir) === SP.EGRESS ? 'egress' : 'ingress',
    len: v.getUint32(off + f.len, true),
    off: v.getUint32(off + f.off, true),
    stream: v.getUint32(off + f.stream, true),
    fin: (tf & SP.F_FIN) !== 0,
    rst: (tf & SP.F_RST) !== 0,
    limit: (tf & SP.F_LIMIT) !== 0,
    cut: (tf & SP.F_CUT) !== 0,
    listener: (tf & SP.F_LISTENER) !== 0,
    bytes: new Uint8Array(v.buffer, v.byteOffset + off + WL_SP_EVENT.size, cap),
  };
}
