/** Decoder of struct wl_http_event (bpf/include/events.h) and its payload. */
import { EV, WL_HDR, WL_HTTP_EVENT } from './layout';
import { ProcInfo, SockInfo, decodeProc, decodeSock } from './record';

export interface HttpChunk {
  type: 'data' | 'close';
  /**
   * CLOCK_MONOTONIC ns as a double: exact for the first 104 days of uptime,
   * a few ns off after that; no BigInt per chunk on the hot path.
   */
  tsNs: number;
  /** Filled by the kernel for request heads only (null otherwise). */
  proc: ProcInfo | null;
  /** Filled by the kernel for request heads only (undefined otherwise). */
  sock: SockInfo | undefined;
  /**
   * Connection id (salted socket address) as a number: the low 32 bits and
   * 21 of the high ones. Two live sockets cannot differ only in the rest:
   * kernel addresses span far less than 2^53 bytes.
   */
  conn: number;
  /** Bytes the syscall moved. */
  len: number;
  dir: 'send' | 'recv';
  side: 'client' | 'server';
  /** The chunk begins a request or response head; payload is its first bytes. */
  start: boolean;
  /** Payload is the chunk's last bytes (other chunks). */
  tail: boolean;
  /** Number of this head among the socket's request heads or final response heads (0: not counted). */
  seq: number;
  /** Connection generation: a new value at the same conn id is a new connection. */
  gen: number;
  payload: Uint8Array;
}

/** Requests travel from the client's socket and into the server's. */
export function isRequestDirection(side: 'client' | 'server', dir: 'send' | 'recv'): boolean {
  return (side === 'client') === (dir === 'send');
}

export function decodeHttpEvent(v: DataView, off: number, len: number): HttpChunk | null {
  if (len < WL_HTTP_EVENT.size) return null;
  const f = WL_HTTP_EVENT.fields;
  const type = v.getUint16(off + f.hdr + WL_HDR.fields.type, true);
  if (type !== EV.HTTP_DATA && type !== EV.HTTP_CLOSE) return null;
  const tsOff = off + f.hdr + WL_HDR.fields.ts_ns;
  const flags = v.getUint16(off + f.hdr + WL_HDR.fields.flags, true);
  const cap = Math.min(v.getUint16(off + f.cap, true), len - WL_HTTP_EVENT.size);
  const start = v.getUint8(off + f.start) === 1;
  const dir = v.getUint8(off + f.dir) === 1 ? 'send' : 'recv';
  const side = v.getUint8(off + f.side) === 2 ? 'server' : 'client';
  // The kernel fills who and where for request heads only.
  const named = start && isRequestDirection(side, dir);
  return {
    type: type === EV.HTTP_DATA ? 'data' : 'close',
    tsNs: v.getUint32(tsOff + 4, true) * 4294967296 + v.getUint32(tsOff, true),
    proc: named ? decodeProc(v, off + f.proc, flags) : null,
    sock: named ? decodeSock(v, off + f.sock) : undefined,
    conn: (v.getUint32(off + f.conn + 4, true) & 0x1fffff) * 4294967296 + v.getUint32(off + f.conn, true),
    len: v.getUint32(off + f.len, true),
    dir,
    side,
    start,
    tail: v.getUint8(off + f.tail) === 1,
    seq: v.getUint32(off + f.seq, true),
    gen: v.getUint16(off + f.gen, true),
    payload: new Uint8Array(v.buffer, v.byteOffset + off + WL_HTTP_EVENT.size, cap),
  };
}
