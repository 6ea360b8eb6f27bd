/** Decoder of struct wl_http_event (bpf/include/events.h) and its payload. */
import { EV, WL_HTTP_EVENT } from './layout';
import { ProcInfo, SockInfo, decodeHeader, decodeProc, decodeSock } from './record';

export interface HttpChunk {
  type: 'data' | 'close';
  tsNs: bigint;
  /** Filled by the kernel for request heads only (null otherwise). */
  proc: ProcInfo | null;
  /** Filled by the kernel for request heads only (undefined otherwise). */
  sock: SockInfo | undefined;
  /** Connection id (salted socket address), as a string key. */
  conn: string;
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
  payload: Uint8Array;
}

export function decodeHttpEvent(v: DataView, off: number, len: number): HttpChunk | null {
  if (len < WL_HTTP_EVENT.size) return null;
  const f = WL_HTTP_EVENT.fields;
  const hdr = decodeHeader(v, off + f.hdr);
  if (hdr.type !== EV.HTTP_DATA && hdr.type !== EV.HTTP_CLOSE) return null;
  const cap = Math.min(v.getUint16(off + f.cap, true), len - WL_HTTP_EVENT.size);
  const start = v.getUint8(off + f.start) === 1;
  const dir = v.getUint8(off + f.dir) === 1 ? 'send' : 'recv';
  const side = v.getUint8(off + f.side) === 2 ? 'server' : 'client';
  // The kernel fills who and where for request heads only.
  const named = start && (side === 'client') === (dir === 'send');
  return {
    type: hdr.type === EV.HTTP_DATA ? 'data' : 'close',
    tsNs: hdr.tsNs,
    proc: named ? decodeProc(v, off + f.proc, hdr.flags) : null,
    sock: named ? decodeSock(v, off + f.sock) : undefined,
    conn: v.getBigUint64(off + f.conn, true).toString(36),
    len: v.getUint32(off + f.len, true),
    dir,
    side,
    start,
    tail: v.getUint8(off + f.tail) === 1,
    seq: v.getUint32(off + f.seq, true),
    payload: new Uint8Array(v.buffer, v.byteOffset + off + WL_HTTP_EVENT.size, cap),
  };
}
