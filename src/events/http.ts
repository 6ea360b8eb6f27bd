/** Decoder of struct wl_http_ex (bpf/include/events.h): one HTTP exchange seen from one socket. */
import { EV, FLAG, HTTP, WL_HDR, WL_HTTP_AHEAD, WL_HTTP_EX, WL_PROC } from './layout';
import { ProcInfo, SockInfo, decodeProc, decodeSock, u64 } from './record';

export interface HttpRecord {
  /** The request's first byte, CLOCK_MONOTONIC ns as a number (src/model/time). */
  tsNs: number;
  proc: ProcInfo | null;
  /** The socket's ends, this host's in saddr/sport. */
  sock: SockInfo;
  /** Socket cookie (counts up from 1 per boot: a number). */
  conn: number;
  side: 'client' | 'server';
  /** The request's number on its connection, from 1. */
  no: number;
  /** What ended the exchange. */
  end: 'response' | 'closed' | 'tunnel';
  /** The final response's status; 0 without one. */
  status: number;
  /** Request's first byte to the final response's first byte; 0 without a response. */
  latencyNs: number;
  reqBytes: number;
  respBytes: number;
  /** WL_HTTP_F_* */
  flags: number;
  /** The method as the kernel read it (latin1), also when the head was not kept. */
  method: string;
  /** The Host value (latin1), when the request had one. */
  host: string | undefined;
  /** The final response's Content-Type (latin1). */
  contentType: string | undefined;
  /** The request head's first bytes (only its request line with WL_HTTP_F_LINES); a view into the ring. */
  req: Uint8Array;
  /** The response head's first bytes (only its status line with WL_HTTP_F_LINES); a view into the ring. */
  resp: Uint8Array;
}

const ENDS = ['response', 'response', 'closed', 'tunnel'] as const;

function latin1(v: DataView, off: number, n: number): string {
  return Buffer.from(v.buffer, v.byteOffset + off, n).toString('latin1');
}

function cText(v: DataView, off: number, max: number): string {
  let n = 0;
  while (n < max && v.getUint8(off + n) !== 0) n++;
  return latin1(v, off, n);
}

/**
 * The process and ends of the last sockets seen: records of one connection
 * share them (one object each, not one per record). Keyed by socket cookie;
 * a process read differently from the kernel's record replaces it.
 */
interface SockCache {
  pid: number;
  comm0: number;
  proc: ProcInfo | null;
  sock: SockInfo;
}
const socks = new Map<number, SockCache>();
const MAX_SOCKS = 4096;

function procAndSock(v: DataView, off: number, hdrFlags: number, cookie: number): SockCache {
  const f = WL_HTTP_EX.fields;
  const pid = hdrFlags & FLAG.PROC_UNKNOWN ? -1 : v.getUint32(off + f.proc + WL_PROC.fields.pid, true);
  const comm0 = v.getUint32(off + f.proc + WL_PROC.fields.comm, true);
  const hit = socks.get(cookie);
  if (hit && hit.pid === pid && hit.comm0 === comm0) return hit;
  if (socks.size >= MAX_SOCKS) socks.delete(socks.keys().next().value as number);
  const c = { pid, comm0, proc: decodeProc(v, off + f.proc, hdrFlags), sock: decodeSock(v, off + f.sock) };
  socks.set(cookie, c);
  return c;
}

export function decodeHttpRecord(v: DataView, off: number, len: number): HttpRecord | null {
  const f = WL_HTTP_EX.fields;
  if (len < WL_HTTP_EX.size) return null;
  if (v.getUint16(off + f.hdr + WL_HDR.fields.type, true) !== EV.HTTP_EXCHANGE) return null;
  const reqCap = v.getUint16(off + f.req_cap, true);
  const respCap = v.getUint16(off + f.resp_cap, true);
  const respOff = v.getUint16(off + f.resp_off, true);
  const data = len - WL_HTTP_EX.size;
  if (reqCap > respOff || respOff + respCap > data) return null;
  const hostLen = Math.min(v.getUint8(off + f.host_len), HTTP.VALUE_MAX);
  const ctypeLen = Math.min(v.getUint8(off + f.ctype_len), HTTP.VALUE_MAX);
  const flags = v.getUint16(off + f.hdr + WL_HDR.fields.flags, true);
  const base = v.byteOffset + off + WL_HTTP_EX.size;
  const cookie = u64(v, off + f.conn);
  const ps = procAndSock(v, off, flags, cookie);
  return {
    tsNs: u64(v, off + f.hdr + WL_HDR.fields.ts_ns),
    proc: ps.proc,
    sock: ps.sock,
    conn: cookie,
    side: v.getUint8(off + f.side) === HTTP.SERVER ? 'server' : 'client',
    no: v.getUint32(off + f.no, true),
    end: ENDS[v.getUint8(off + f.end) & 3]!,
    status: v.getUint16(off + f.status, true),
    latencyNs: u64(v, off + f.latency_ns),
    reqBytes: u64(v, off + f.req_bytes),
    respBytes: u64(v, off + f.resp_bytes),
    flags: v.getUint8(off + f.flags),
    method: cText(v, off + f.method, HTTP.METHOD_MAX),
    host: hostLen > 0 ? latin1(v, off + f.host, hostLen) : undefined,
    contentType: ctypeLen > 0 ? latin1(v, off + f.ctype, ctypeLen) : undefined,
    req: new Uint8Array(v.buffer, base, reqCap),
    resp: new Uint8Array(v.buffer, base + respOff, respCap),
  };
}

/** A pipelined request's head, sent before its exchange (struct wl_http_ahead). */
export interface HttpAhead {
  conn: number;
  no: number;
  /** The head was longer than the bytes copied. */
  cut: boolean;
  /** A view into the ring. */
  head: Uint8Array;
}

export function decodeHttpAhead(v: DataView, off: number, len: number): HttpAhead | null {
  const f = WL_HTTP_AHEAD.fields;
  if (len < WL_HTTP_AHEAD.size) return null;
  if (v.getUint16(off + f.hdr + WL_HDR.fields.type, true) !== EV.HTTP_AHEAD) return null;
  const cap = v.getUint16(off + f.cap, true);
  if (cap > len - WL_HTTP_AHEAD.size) return null;
  return {
    conn: u64(v, off + f.conn),
    no: v.getUint32(off + f.no, true),
    cut: (v.getUint8(off + f.flags) & HTTP.F_REQ_CUT) !== 0,
    head: new Uint8Array(v.buffer, v.byteOffset + off + WL_HTTP_AHEAD.size, cap),
  };
}

/** The record type at off (wl_hdr.type), or 0 when the record is too short to have one. */
export function recordType(v: DataView, off: number, len: number): number {
  return len >= WL_HDR.size ? v.getUint16(off + WL_HDR.fields.type, true) : 0;
}
