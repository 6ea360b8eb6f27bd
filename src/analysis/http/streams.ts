/**
 * HTTP/1.x exchanges from reassembled stream bytes (capture files: Segments
 * from src/net/packet-streams through the stream service), with the rules
 * bpf/http.bpf.c applies to live sockets, so `wirelens http -r FILE` gives
 * the records `wirelens http` gives:
 *
 *  - a connection is HTTP when its first payload begins with a request
 *    method (as the kernel judges); the end that sends it is the client;
 *  - per view (one end's socket) the request direction and the response
 *    direction are framed by the pure parser (src/protocols/http1/stream):
 *    Content-Length, chunked, until close, pipelining, 1xx, HEAD/204/304,
 *    CONNECT and 101 (tracking stops);
 *  - requests wait (at most 8, as in the kernel) for their final
 *    responses, paired in order; an exchange ends at its final response's
 *    end, or when the server's direction ends (FIN in order, RST): then
 *    what waits is reported as it is (no response: status null);
 *  - latency is the request head's first byte to the final response head's
 *    first byte (the data's times); bytes are the messages' bytes on the
 *    wire (a response's include its interim ones);
 *  - the record carries the heads' first WL_HTTP_HEAD_MAX bytes (only the
 *    start lines without --headers), Host and Content-Type cut at
 *    WL_HTTP_VALUE_MAX, as the kernel copies them, and goes through the same
 *    exchangeOf() as a kernel record;
 *  - --method/--url-prefix/--url-contains/--host judge the request head;
 *    a filtered exchange is counted, not reported;
 *  - a malformed head, or a hole the capture missed, loses the direction's
 *    place: requests waiting are dropped (counted) and the direction waits
 *    for a segment that begins a head.
 * Exchanges still waiting when the input ends are counted, not reported
 * (as live wirelens does not report them at exit). Pure (no I/O); bounded:
 * views, heads and bytes held have caps, and what is evicted is counted.
 */
import type { Proc } from '../../model/packet';
import type { Datagram, Segment } from '../../model/segment';
import { HTTP } from '../../events/layout';
import { Http1Event, Http1Stream } from '../../protocols/http1/stream';
import { header, isRequestStart } from '../../protocols/http1/syntax';
import { HttpExchange, HttpRecordFields, exchangeOf } from './exchanges';
import { At, Side, StreamConsumer, StreamDir, StreamService, StreamView } from '../streams/service';

/** As the kernel keeps them (bpf/include/events.h). */
export const HEAD_KEEP = 2048;
export const VALUE_MAX = 64;
/** Requests waiting for their responses per connection (the kernel's QN). */
export const MAX_WAITING = 8;
/** --url-contains looks at the target's first bytes (the kernel's URL_SCAN). */
const URL_SCAN = 256;
/** A head longer than this is malformed here (the kernel skips long lines; a file's reader holds the head). */
const MAX_HEAD = 256 * 1024;

export interface HttpFilters {
  method?: string | undefined;
  urlPrefix?: string | undefined;
  urlContains?: string | undefined;
  host?: string | undefined;
}

export interface HttpStreamOptions {
  /** Every header (--headers); else the start lines, Host and Content-Type. */
  headers: boolean;
  filters?: HttpFilters;
  maxConns?: number;
  maxBytes?: number;
  /** Bytes a direction may hold ahead of a hole. */
  maxHeld?: number;
}

/** What the kernel counts in wl_http_stats, counted the same way here. */
export interface HttpStreamStats {
  requests: number;
  exchanges: number;
  unanswered: number;
  filtered: number;
  gaps: number;
  malformed: number;
  unpaired: number;
  dropped: number;
  tunnels: number;
  /** Exchanges still waiting when the input ended. */
  open: number;
  /** Views pushed out over a cap. */
  evicted: number;
}

interface Waiting {
  no: number;
  tsNs: number;
  method: string;
  raw: Uint8Array;
  headBytes: number;
  host: string | undefined;
  bytes: number;
  filtered: boolean;
  connect: boolean;
  proc: Proc | undefined;
}

interface Answer {
  status: number;
  tsNs: number;
  raw: Uint8Array;
  headBytes: number;
  contentType: string | undefined;
}

interface Conn {
  /** The side of this view's socket that carries requests; undefined before the first payload. */
  reqSide: Side | undefined;
  req: Http1Stream | undefined;
  resp: Http1Stream | undefined;
  /** When the head being gathered began, per direction. */
  reqHeadNs: number | undefined;
  respHeadNs: number | undefined;
  /** A direction that lost its place waits for a segment that begins a head. */
  reqSeek: boolean;
  respSeek: boolean;
  waiting: Waiting[];
  /** The request whose body is arriving. */
  sending: Waiting | undefined;
  reqNo: number;
  /** Bytes of the responses so far to the request waiting longest (interim ones included). */
  respBytes: number;
  answer: Answer | undefined;
  /** The final response being read answers no waiting request. */
  unpaired: boolean;
  proc: Proc | undefined;
  done: boolean;
}

function parser(role: 'request' | 'response'): Http1Stream {
  return new Http1Stream(role, { maxHeaderBytes: MAX_HEAD, maxUrlBytes: 4096, keepHeadBytes: HEAD_KEEP });
}

function cutValue(v: string | undefined): string | undefined {
  if (v === undefined || v === '') return undefined;
  return v.length > VALUE_MAX ? v.slice(0, VALUE_MAX) : v;
}

/** Bytes of the start line, its line end included. */
function startLineBytes(raw: Uint8Array): number {
  const lf = raw.indexOf(0x0a);
  return lf < 0 ? raw.length : lf + 1;
}

const STATUS_START = Buffer.from('HTTP/1.', 'latin1');

function isStatusStart(b: Uint8Array): boolean {
  if (b.length < STATUS_START.length) return false;
  for (let i = 0; i < STATUS_START.length; i++) if (b[i] !== STATUS_START[i]) return false;
  return true;
}

export class HttpStreamExchanges implements StreamConsumer<Conn, never> {
  readonly stats: HttpStreamStats = {
    requests: 0,
    exchanges: 0,
    unanswered: 0,
    filtered: 0,
    gaps: 0,
    malformed: 0,
    unpaired: 0,
    dropped: 0,
    tunnels: 0,
    open: 0,
    evicted: 0,
  };
  readonly streams: StreamService<Conn, never>;
  private out: HttpExchange[] = [];
  private readonly headers: boolean;
  private readonly f: HttpFilters;
  private readonly hostLower: string | undefined;

  constructor(o: HttpStreamOptions) {
    this.headers = o.headers;
    this.f = o.filters ?? {};
    this.hostLower = this.f.host?.toLowerCase();
    this.streams = new StreamService<Conn, never>(this, {
      maxViews: o.maxConns ?? 16384,
      maxBytes: o.maxBytes ?? 64 << 20,
      maxHeld: o.maxHeld ?? 1 << 20,
      maxRetired: 65536,
      joinWaitNs: 5_000_000_000,
      startOnEnd: true,
      classify: (first) => isRequestStart(first),
    });
  }

  /** The exchanges this segment completes. */
  push(x: Segment | Datagram): HttpExchange[] {
    const out: HttpExchange[] = [];
    this.out = out;
    this.streams.push(x);
    return out;
  }

  /** The data's clock moved on (listener segments waiting for their connection). */
  tick(nowNs: number): HttpExchange[] {
    const out: HttpExchange[] = [];
    this.out = out;
    this.streams.tick(nowNs);
    return out;
  }

  /** The input ended: exchanges still waiting are counted. */
  end(): void {
    for (const v of this.streams.active()) {
      if (!v.state.done) this.stats.open += v.state.waiting.length;
    }
  }

  /* ---- the stream service's consumer ---- */

  open(): Conn {
    return {
      reqSide: undefined,
      req: undefined,
      resp: undefined,
      reqHeadNs: undefined,
      respHeadNs: undefined,
      reqSeek: false,
      respSeek: false,
      waiting: [],
      sending: undefined,
      reqNo: 0,
      respBytes: 0,
      answer: undefined,
      unpaired: false,
      proc: undefined,
      done: false,
    };
  }

  openDir(): void {}

  segment(v: StreamView<Conn>, d: StreamDir, pieces: Uint8Array[], broke: boolean, ended: boolean, at: At): void {
    const c = v.state;
    if (c.done) return;
    if (at.proc !== undefined) c.proc = at.proc;
    if (c.reqSide === undefined) {
      const first = pieces.find((p) => p.length > 0);
      if (first === undefined) {
        if (v.reset || ended) this.stop(v);
        return;
      }
      c.reqSide = d.side;
      c.req = parser('request');
      c.resp = parser('response');
    }
    const isReq = d.side === c.reqSide;
    for (const piece of pieces) {
      if (c.done) return;
      if (piece.length > 0) this.bytes(v, isReq, piece, at);
    }
    if (c.done) return;
    if (broke) this.lose(c, isReq, 'gap');
    // The server's direction ended, or the connection was reset: nothing more will be answered.
    if (v.reset || (!isReq && ended)) {
      if (!isReq && !c.respSeek) for (const e of c.resp!.end()) this.respEvent(v, e);
      this.connEnd(v);
      this.stop(v);
    }
  }

  buffered(): number {
    // Heads being gathered live in the parsers, bounded by MAX_HEAD per direction.
    return 0;
  }

  evict(v: StreamView<Conn>): null {
    this.stats.evicted++;
    this.stats.open += v.state.waiting.length;
    return null;
  }

  /* ---- */

  private stop(v: StreamView<Conn>): void {
    v.state.done = true;
    this.streams.settle(v);
  }

  private bytes(v: StreamView<Conn>, isReq: boolean, piece: Uint8Array, at: At): void {
    const c = v.state;
    if (isReq) {
      if (c.reqSeek) {
        if (!isRequestStart(piece)) return;
        c.reqSeek = false;
        c.req = parser('request');
      }
      const mid = c.req!.inHead;
      const events = c.req!.push(piece);
      let first = true;
      for (const e of events) {
        if (e.kind === 'request') {
          const ts = first && mid && c.reqHeadNs !== undefined ? c.reqHeadNs : at.tsNs;
          first = false;
          this.request(c, e, ts, at);
        } else if (e.kind === 'end') {
          if (c.sending) c.sending.bytes = e.bytes;
          c.sending = undefined;
        } else if (e.kind === 'error') {
          this.stats.malformed++;
          this.lose(c, true, 'malformed');
          return;
        }
      }
      if (c.sending) c.sending.bytes = c.req!.messageBytes;
      if (c.req!.inHead) c.reqHeadNs = mid && events.length === 0 ? c.reqHeadNs : at.tsNs;
      return;
    }
    if (c.respSeek) {
      if (!isStatusStart(piece)) return;
      c.respSeek = false;
      c.resp = parser('response');
      for (const w of c.waiting) c.resp.expectResponseTo(w.method);
    }
    const mid = c.resp!.inHead;
    const events = c.resp!.push(piece);
    let first = true;
    for (const e of events) {
      if (e.kind === 'response') {
        const ts = first && mid && c.respHeadNs !== undefined ? c.respHeadNs : at.tsNs;
        first = false;
        this.response(v, e, ts);
      } else {
        this.respEvent(v, e);
      }
      if (c.done || c.respSeek) return;
    }
    if (c.resp!.inHead) c.respHeadNs = mid && events.length === 0 ? c.respHeadNs : at.tsNs;
  }

  private request(c: Conn, e: Extract<Http1Event, { kind: 'request' }>, tsNs: number, at: At): void {
    this.stats.requests++;
    c.reqNo++;
    const raw = e.raw ?? new Uint8Array(0);
    const w: Waiting = {
      no: c.reqNo,
      tsNs,
      method: e.method,
      raw,
      headBytes: e.headBytes,
      host: header(e.headers, 'host'),
      bytes: e.bytes,
      filtered: !this.passes(e.method, e.target, header(e.headers, 'host')),
      connect: e.method === 'CONNECT',
      proc: at.proc ?? c.proc,
    };
    if (w.filtered) this.stats.filtered++;
    c.resp?.expectResponseTo(e.method);
    c.sending = w;
    if (c.waiting.length >= MAX_WAITING) {
      this.stats.dropped++;
      return;
    }
    c.waiting.push(w);
  }

  private response(v: StreamView<Conn>, e: Extract<Http1Event, { kind: 'response' }>, tsNs: number): void {
    const c = v.state;
    if (e.interim) {
      c.respBytes += e.bytes;
      return;
    }
    const w = c.waiting[0];
    if (w === undefined) {
      this.stats.unpaired++;
      c.unpaired = true;
      c.respBytes = 0;
      return;
    }
    c.answer = {
      status: e.status,
      tsNs,
      raw: e.raw ?? new Uint8Array(0),
      headBytes: e.headBytes,
      contentType: e.contentType,
    };
    if (e.status === 101 || (w.connect && e.status >= 200 && e.status < 300)) {
      // What follows is not HTTP: the exchange ends at the head, and the connection is no longer followed.
      this.stats.tunnels++;
      c.respBytes += e.bytes;
      this.finish(v, w);
      c.waiting.shift();
      this.connEnd(v);
      this.stop(v);
    }
  }

  private respEvent(v: StreamView<Conn>, e: Http1Event): void {
    const c = v.state;
    if (e.kind === 'error') {
      this.stats.malformed++;
      this.lose(c, false, 'malformed');
      return;
    }
    if (e.kind !== 'end') return;
    if (c.unpaired) {
      c.unpaired = false;
      c.respBytes = 0;
      return;
    }
    const w = c.waiting[0];
    if (w === undefined || c.answer === undefined) return;
    c.respBytes += e.bytes;
    this.finish(v, w);
    c.waiting.shift();
    if (w.connect) {
      // A refused CONNECT: the client may go on with requests.
      c.reqSeek = true;
    }
    c.answer = undefined;
    c.respBytes = 0;
  }

  /** The connection ends: what waits is reported as it is (the one being answered with what came of it). */
  private connEnd(v: StreamView<Conn>): void {
    const c = v.state;
    for (const w of c.waiting) {
      if (c.answer !== undefined && w === c.waiting[0]) c.respBytes += c.resp?.messageBytes ?? 0;
      this.finish(v, w);
      c.answer = undefined;
    }
    c.waiting = [];
  }

  /** A direction lost its place: it seeks the next head; requests waiting cannot be paired now. */
  private lose(c: Conn, isReq: boolean, why: 'gap' | 'malformed'): void {
    if (why === 'gap') this.stats.gaps++;
    if (isReq) {
      c.reqSeek = true;
      c.sending = undefined;
    } else {
      c.respSeek = true;
    }
    this.stats.dropped += c.waiting.length;
    c.waiting = [];
    c.answer = undefined;
    c.unpaired = false;
    c.respBytes = 0;
  }

  private passes(method: string, target: string, host: string | undefined): boolean {
    const f = this.f;
    if (f.method !== undefined && method !== f.method) return false;
    if (f.urlPrefix !== undefined && !target.startsWith(f.urlPrefix)) return false;
    if (f.urlContains !== undefined && !target.slice(0, URL_SCAN).includes(f.urlContains)) return false;
    if (this.hostLower !== undefined) {
      const h = host?.toLowerCase();
      if (h === undefined || (h !== this.hostLower && !h.startsWith(this.hostLower + ':'))) return false;
    }
    return true;
  }

  private finish(v: StreamView<Conn>, w: Waiting): void {
    const c = v.state;
    this.stats.exchanges++;
    const a = c.answer;
    if (a === undefined) this.stats.unanswered++;
    if (w.filtered) return;
    const lines = !this.headers;
    const reqRaw = lines ? w.raw.subarray(0, startLineBytes(w.raw)) : w.raw;
    const respRaw = a === undefined ? new Uint8Array(0) : lines ? a.raw.subarray(0, startLineBytes(a.raw)) : a.raw;
    let flags = lines ? HTTP.F_LINES : 0;
    if (w.headBytes > HEAD_KEEP) flags |= HTTP.F_REQ_CUT;
    if (a !== undefined && a.headBytes > HEAD_KEEP) flags |= HTTP.F_RESP_CUT;
    const r: HttpRecordFields = {
      tsNs: w.tsNs,
      // The socket's process as last seen (the kernel reads its owner when the exchange ends).
      proc: c.proc ?? w.proc ?? null,
      sock: v.sock,
      side: c.reqSide === 'egress' ? 'client' : 'server',
      status: a?.status ?? 0,
      latencyNs: a === undefined ? 0 : a.tsNs > w.tsNs ? a.tsNs - w.tsNs : 1,
      reqBytes: w.bytes,
      respBytes: a === undefined ? 0 : c.respBytes,
      flags,
      method: w.method.slice(0, HTTP.METHOD_MAX),
      host: cutValue(w.host),
      contentType: a === undefined ? undefined : cutValue(a.contentType),
      req: reqRaw,
      resp: respRaw,
    };
    this.out.push(exchangeOf(r, this.headers));
  }
}
