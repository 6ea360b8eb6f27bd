/**
 * An HTTP exchange from the kernel's record of it (bpf/http.bpf.c pairs a
 * request with its final response and counts their bodies): the heads it
 * carries parsed into the fields wirelens shows. Pure; never throws.
 */
import { HttpAhead, HttpRecord } from '../../events/http';
import { HTTP } from '../../events/layout';
import { SockInfo } from '../../events/record';
import type { Proc } from '../../model/packet';
import { parseRequestHead, parseResponseHead } from '../../protocols/http1/head';

export interface HttpExchange {
  /** The request's first byte, monotonic ns. */
  tsNs: number;
  side: 'client' | 'server';
  proc: Proc | null;
  sock: SockInfo;
  method: string;
  url: string;
  urlTruncated: boolean;
  host: string | undefined;
  version: string;
  /** null: no final response before the connection closed. */
  status: number | null;
  reason: string;
  latencyNs: number | null;
  reqBytes: number;
  respBytes: number;
  contentType: string | undefined;
  reqHeaders: [string, string][];
  respHeaders: [string, string][];
  /** The request head was longer than what the kernel copied: headers past it are missing. */
  reqHeadTruncated: boolean;
  /** The same for the response head. */
  respHeadTruncated: boolean;
}

/** URLs longer than this are cut (the kernel copies at most WL_HTTP_HEAD_MAX bytes of a head anyway). */
const MAX_URL = 4096;

/** Empty lines may come before a start line (RFC 9112 2.2); the kernel keeps them in the copy. */
function skipEmptyLines(b: Uint8Array): Uint8Array {
  let i = 0;
  while (i < b.length && (b[i] === 0x0d || b[i] === 0x0a)) i++;
  return i === 0 ? b : b.subarray(i);
}

/**
 * What exchangeOf reads of a record: a kernel record, or one put together
 * from a capture file's streams (src/analysis/http/streams.ts) the same way.
 */
export type HttpRecordFields = Pick<
  HttpRecord,
  | 'tsNs'
  | 'sock'
  | 'side'
  | 'status'
  | 'latencyNs'
  | 'reqBytes'
  | 'respBytes'
  | 'flags'
  | 'method'
  | 'host'
  | 'contentType'
  | 'req'
  | 'resp'
> & { proc: Proc | null };

/**
 * The exchange a kernel record describes; `keepHeaders`: every header
 * (--headers), else the few fields shown. `ahead`: the request's head when
 * it came before, in its own record (a pipelined request).
 */
export function exchangeOf(r: HttpRecordFields, keepHeaders: boolean, ahead?: Uint8Array): HttpExchange {
  const lines = (r.flags & HTTP.F_LINES) !== 0;
  const reqBytes = ahead ?? r.req;
  // A head sent ahead is whole whatever the mode: its lines are parsed like a --headers copy.
  const reqLines = lines && ahead === undefined;
  const req = reqBytes.length > 0 ? parseRequestHead(skipEmptyLines(reqBytes), keepHeaders && !reqLines) : null;
  const resp =
    r.status !== 0 && r.resp.length > 0 ? parseResponseHead(skipEmptyLines(r.resp), keepHeaders && !lines) : null;
  const target = req?.target ?? '';
  const lineCut = req !== null && req.version === '' && req.truncated;
  return {
    tsNs: r.tsNs,
    side: r.side,
    proc: r.proc,
    sock: r.sock,
    method: req?.method ?? r.method,
    url: target.length > MAX_URL ? target.slice(0, MAX_URL) : target,
    // A request line the kernel did not copy whole, or not at all (pipelined behind another, across packets).
    urlTruncated: target.length > MAX_URL || lineCut || req === null,
    host: r.host ?? (ahead !== undefined ? req?.host : undefined),
    version: req?.version ?? '',
    status: r.status === 0 ? null : r.status,
    reason: resp?.reason ?? '',
    latencyNs: r.status === 0 ? null : r.latencyNs,
    reqBytes: r.reqBytes,
    respBytes: r.respBytes,
    contentType: r.contentType,
    reqHeaders: req && keepHeaders ? req.headers : [],
    respHeaders: resp && !lines ? resp.headers : [],
    reqHeadTruncated: (r.flags & HTTP.F_REQ_CUT) !== 0,
    respHeadTruncated: (r.flags & HTTP.F_RESP_CUT) !== 0,
  };
}

/**
 * Heads of pipelined requests, kept until their exchanges come (by socket
 * and request number). Bounded: the oldest go first, counted.
 */
export class AheadHeads {
  private readonly heads = new Map<string, Uint8Array>();
  dropped = 0;

  constructor(private readonly max = 4096) {}

  add(a: HttpAhead): void {
    if (this.heads.size >= this.max) {
      const oldest = this.heads.keys().next().value as string;
      this.heads.delete(oldest);
      this.dropped++;
    }
    // A copy: the record is a view into the ring.
    this.heads.set(`${a.conn}:${a.no}`, a.head.slice());
  }

  /** The head for this exchange, if it came ahead; taken out. */
  take(r: HttpRecord): Uint8Array | undefined {
    if (!(r.flags & HTTP.F_REQ_AHEAD)) return undefined;
    const key = `${r.conn}:${r.no}`;
    const h = this.heads.get(key);
    if (h) this.heads.delete(key);
    return h;
  }
}
