/**
 * Pairs requests with responses per connection, from the chunks the kernel
 * sends (heads copied, other chunks as lengths and tails), and measures each
 * exchange: latency from the request's first byte to the final response's
 * first byte, bytes each way, status, content type. Works the same for the
 * client's socket and the server's. Pure (no I/O); bounded: connections and
 * pending requests have caps, and what is evicted is counted.
 */
import { HttpChunk, isRequestDirection } from '../events/http';
import { ProcInfo, SockInfo } from '../events/record';
import {
  BodyFraming,
  endsWithLastChunk,
  isInterim,
  messageBytes,
  requestFraming,
  responseFraming,
} from '../protocols/http1/framing';
import { mayBeginStatusLine, parseRequestHead, parseResponseHead } from '../protocols/http1/head';
import { HeadGather } from './http-head-gather';

export interface HttpExchange {
  /** The request's first byte, monotonic ns. */
  tsNs: bigint;
  side: 'client' | 'server';
  proc: ProcInfo | null;
  sock: SockInfo;
  method: string;
  url: string;
  urlTruncated: boolean;
  host: string | undefined;
  version: string;
  /** null: no response before the connection closed. */
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

interface Pending {
  /** null: a request whose head never reached us (lost or filtered in the kernel). */
  ex: HttpExchange | null;
  /** Its number on the connection (the kernel's, shifted for pipelined requests split here). */
  no: number;
}

interface Response {
  ex: HttpExchange;
  /** Bytes of the whole response when they are known (head + Content-Length). */
  expected: number | undefined;
  chunked: boolean;
  lastTs: number;
}

interface Conn {
  side: 'client' | 'server';
  gen: number;
  pending: Pending[];
  /** The request whose body is still arriving. */
  sending: Pending | undefined;
  response: Response | undefined;
  lastTs: number;
  /** Number of the last request queued. */
  lastNo: number;
  /** Requests found inside one chunk beyond the first: the kernel counted them as one. */
  offset: number;
  /** Final responses found behind an interim one in a chunk, or put together from pieces: the kernel did not count them. */
  respOffset: number;
  /** A request head arriving in pieces. */
  reqGather: HeadGather | undefined;
  /** A response head arriving in pieces. */
  respGather: HeadGather | undefined;
}

export interface AssemblerLimits {
  maxConns: number;
  maxPendingPerConn: number;
  maxUrlBytes: number;
  /** A response without a known end is reported after this much quiet (30 times more for one with a known end). */
  idleNs: number;
  /** Requests awaiting a response over all connections. */
  maxPendingTotal: number;
  /** Keep every header of each exchange (for --headers); otherwise only the fields used. */
  keepHeaders: boolean;
}

export const DEFAULT_LIMITS: AssemblerLimits = {
  maxConns: 16384,
  maxPendingPerConn: 64,
  maxUrlBytes: 4096,
  idleNs: 1e9,
  maxPendingTotal: 65536,
  keepHeaders: true,
};

export interface AssemblerStats {
  exchanges: number;
  evictedConns: number;
  droppedRequests: number;
  malformed: number;
  unanswered: number;
  /** Exchanges whose request or response record was lost (ring full) or filtered: not reported. */
  unpaired: number;
}

export class HttpAssembler {
  private readonly conns = new Map<number, Conn>();
  private pendingTotal = 0;
  private readonly limits: AssemblerLimits;
  readonly stats: AssemblerStats = {
    exchanges: 0,
    evictedConns: 0,
    droppedRequests: 0,
    malformed: 0,
    unanswered: 0,
    unpaired: 0,
  };

  constructor(limits: Partial<AssemblerLimits> = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }

  /** Feeds one chunk; returns the exchanges it completed. */
  push(c: HttpChunk): HttpExchange[] {
    const out: HttpExchange[] = [];
    if (c.type === 'close') {
      this.close(c.conn, out);
      return out;
    }
    const conn = this.conn(c, out);
    conn.lastTs = c.tsNs;
    const reqDir = isRequestDirection(conn.side, c.dir);
    const g = reqDir ? conn.reqGather : conn.respGather;
    if (g) {
      // A piece of the head being put together: it may complete it.
      if (!c.start && !c.tail && c.payload.length > 0 && !g.add(c)) return out;
      this.endGather(conn, reqDir, out);
      if (!c.start && !c.tail && c.payload.length > 0) return out;
    }
    if (c.start && HeadGather.wanted(c)) {
      this.startGather(conn, reqDir, new HeadGather(c, false));
      return out;
    }
    // A response read in pieces too short for the kernel to recognise.
    if (
      !reqDir &&
      !c.start &&
      !c.tail &&
      !conn.response &&
      conn.pending.length > 0 &&
      mayBeginStatusLine(c.payload) &&
      HeadGather.wanted(c)
    ) {
      this.startGather(conn, reqDir, new HeadGather(c, true));
      return out;
    }
    if (reqDir) this.onRequestChunk(conn, c);
    else this.onResponseChunk(conn, c, out);
    return out;
  }

  private startGather(conn: Conn, reqDir: boolean, g: HeadGather): void {
    if (reqDir) conn.reqGather = g;
    else conn.respGather = g;
  }

  /** The head gathered so far, complete or not, goes on as one chunk. */
  private endGather(conn: Conn, reqDir: boolean, out: HttpExchange[]): void {
    const g = reqDir ? conn.reqGather : conn.respGather;
    if (!g) return;
    if (reqDir) {
      conn.reqGather = undefined;
      this.onRequestChunk(conn, g.chunk());
    } else {
      conn.respGather = undefined;
      this.onResponseChunk(conn, g.chunk(), out);
    }
  }

  /** Reports responses with no known end that went quiet. */
  flushIdle(nowBig: bigint): HttpExchange[] {
    const nowNs = Number(nowBig);
    const out: HttpExchange[] = [];
    for (const conn of this.conns.values()) {
      if (conn.reqGather && nowNs - conn.reqGather.lastTsNs >= this.limits.idleNs) this.endGather(conn, true, out);
      if (conn.respGather && nowNs - conn.respGather.lastTsNs >= this.limits.idleNs) this.endGather(conn, false, out);
      const r = conn.response;
      if (!r) continue;
      // A response whose end is known (length, chunked) waits for it, up to a
      // much longer quiet time; one without a known end is done once quiet.
      const quiet = r.expected === undefined && !r.chunked ? this.limits.idleNs : this.limits.idleNs * 30;
      if (nowNs - r.lastTs >= quiet) this.finishResponse(conn, out);
    }
    return out;
  }

  /** Everything still open (at exit): responses as they are, requests unanswered. */
  flushAll(): HttpExchange[] {
    const out: HttpExchange[] = [];
    for (const id of [...this.conns.keys()]) this.close(id, out);
    return out;
  }

  get connections(): number {
    return this.conns.size;
  }

  private conn(c: HttpChunk, out: HttpExchange[]): Conn {
    let conn = this.conns.get(c.conn);
    if (conn && (conn.side !== c.side || conn.gen !== c.gen)) {
      // A new connection at a reused socket address whose predecessor's
      // close we missed (the kernel's generation or role changed).
      this.close(c.conn, out);
      conn = undefined;
    }
    if (conn) {
      // Most recently used last: eviction takes the oldest.
      this.conns.delete(c.conn);
      this.conns.set(c.conn, conn);
      return conn;
    }
    if (this.conns.size >= this.limits.maxConns) {
      const oldest = this.conns.keys().next().value as number;
      this.close(oldest, out);
      this.stats.evictedConns++;
    }
    conn = {
      side: c.side,
      gen: c.gen,
      pending: [],
      sending: undefined,
      response: undefined,
      lastTs: c.tsNs,
      lastNo: 0,
      offset: 0,
      respOffset: 0,
      reqGather: undefined,
      respGather: undefined,
    };
    this.conns.set(c.conn, conn);
    return conn;
  }

  private onRequestChunk(conn: Conn, c: HttpChunk): void {
    if (!c.start) {
      if (conn.sending?.ex) conn.sending.ex.reqBytes += c.len;
      return;
    }
    // Requests the kernel numbered but we never got (lost, or filtered in the
    // kernel) hold their place, so each response finds its own request. A gap
    // wider than the queue (state evicted here) resynchronises instead.
    let no = c.seq > 0 ? c.seq + conn.offset : conn.lastNo + 1;
    if (no - conn.lastNo - 1 > this.limits.maxPendingPerConn) this.resync(conn);
    else for (let n = conn.lastNo + 1; n < no; n++) this.enqueue(conn, { ex: null, no: n });
    // A pipelining client may write several requests at once: when the whole
    // chunk was captured, every head in it is a request.
    let off = 0;
    for (let i = 0; i < this.limits.maxPendingPerConn; i++) {
      const head = parseRequestHead(off === 0 ? c.payload : c.payload.subarray(off), this.limits.keepHeaders);
      if (!head || !c.sock) {
        if (off === 0) {
          this.stats.malformed++;
          conn.sending = undefined;
        }
        return;
      }
      if (off > 0) {
        no++;
        conn.offset++;
      }
      const p = this.newRequest(conn, c, head, no);
      const used = this.wholeMessageBytes(
        c,
        requestFraming(head.method, head.transferEncoding, head.contentLength),
        head.headBytes,
      );
      if (used === undefined || off + used >= c.len) {
        p.ex.reqBytes = c.len - off;
        return;
      }
      p.ex.reqBytes = used;
      off += used;
    }
  }

  private newRequest(
    conn: Conn,
    c: HttpChunk,
    head: NonNullable<ReturnType<typeof parseRequestHead>>,
    no: number,
  ): { ex: HttpExchange } {
    const max = this.limits.maxUrlBytes;
    const ex: HttpExchange = {
      tsNs: BigInt(Math.round(c.tsNs)),
      side: conn.side,
      proc: c.proc,
      sock: c.sock!,
      method: head.method,
      url: head.target.length > max ? head.target.slice(0, max) : head.target,
      urlTruncated: head.target.length > max || (head.truncated && head.headers.length === 0 && head.version === ''),
      host: head.host,
      version: head.version,
      status: null,
      reason: '',
      latencyNs: null,
      reqBytes: 0,
      respBytes: 0,
      contentType: undefined,
      reqHeaders: head.headers,
      respHeaders: [],
      reqHeadTruncated: head.truncated,
      respHeadTruncated: false,
    };
    const p = { ex, no };
    this.enqueue(conn, p);
    conn.sending = p;
    return p;
  }

  /** Forgets what is queued: it can no longer be paired reliably. */
  private resync(conn: Conn): void {
    while (conn.pending.length > 0) if (this.dequeue(conn)!.ex) this.stats.unpaired++;
  }

  /** The least recently used connection with a request waiting (the map keeps use order). */
  private oldestWaiting(): Conn | undefined {
    for (const c of this.conns.values()) if (c.pending.length > 0) return c;
    return undefined;
  }

  private dequeue(conn: Conn): Pending | undefined {
    const p = conn.pending.shift();
    if (p) this.pendingTotal--;
    return p;
  }

  private enqueue(conn: Conn, p: Pending): void {
    // Over a cap the oldest waiting request goes: this connection's, or over
    // all connections that of the least recently used one with any.
    const victim =
      conn.pending.length >= this.limits.maxPendingPerConn
        ? conn
        : this.pendingTotal >= this.limits.maxPendingTotal
          ? this.oldestWaiting()
          : undefined;
    if (victim && this.dequeue(victim)) this.stats.droppedRequests++;
    conn.pending.push(p);
    conn.lastNo = Math.max(conn.lastNo, p.no);
    this.pendingTotal++;
  }

  /**
   * Bytes of a message that ends inside a chunk captured whole, so that
   * another message may follow it there; undefined otherwise (its end is
   * not in this chunk, not known, or what follows is a tunnel).
   */
  private wholeMessageBytes(c: HttpChunk, framing: BodyFraming, headBytes: number | undefined): number | undefined {
    if (c.payload.length !== c.len || framing.kind === 'tunnel') return undefined;
    return messageBytes(framing, headBytes);
  }

  private onResponseChunk(conn: Conn, c: HttpChunk, out: HttpExchange[]): void {
    if (!c.start) {
      const r = conn.response;
      if (!r) return;
      r.ex.respBytes += c.len;
      r.lastTs = c.tsNs;
      this.finishIfDone(conn, r, c, out);
      return;
    }
    // A server answering pipelined requests may write several responses at
    // once: when the whole chunk was captured, every head in it is one. The
    // kernel numbered the chunk (seq) by its first head only.
    let off = 0;
    for (let i = 0; i < this.limits.maxPendingPerConn && off < c.len; i++) {
      const used = this.onResponseHead(conn, c, off, i === 0 ? c.seq : 0, out);
      if (used === undefined) return;
      off += used;
    }
  }

  /**
   * The response head at `off` in chunk c; `seq` is the kernel's number for
   * it (0: not numbered). Returns the bytes it took when another head may
   * follow in the chunk.
   */
  private onResponseHead(conn: Conn, c: HttpChunk, off: number, seq: number, out: HttpExchange[]): number | undefined {
    let payload = off === 0 ? c.payload : c.payload.subarray(off);
    let head = parseResponseHead(payload, this.limits.keepHeaders);
    // Interim responses (100 Continue) do not answer the request; the final
    // one may follow in the same chunk.
    let interimBytes = 0;
    while (head && isInterim(head.status)) {
      if (head.headBytes === undefined || head.headBytes >= payload.length) return undefined;
      interimBytes += head.headBytes;
      payload = payload.subarray(head.headBytes);
      head = parseResponseHead(payload, this.limits.keepHeaders);
    }
    if (!head) {
      if (off === 0) this.stats.malformed++;
      return undefined;
    }
    if (conn.response) this.finishResponse(conn, out);
    // The kernel numbers final responses like requests: response N answers
    // request N. Older requests lost their responses (counted, not reported);
    // a response to a request we never got is counted and skipped. A final
    // head the kernel did not number (behind a 100, after another response
    // in the chunk, put together from pieces) shifts the numbers after it.
    const rno = seq > 0 ? seq + conn.respOffset : 0;
    if (seq === 0) conn.respOffset++;
    if (rno > 0) {
      while (conn.pending.length > 0 && conn.pending[0]!.no < rno) if (this.dequeue(conn)!.ex) this.stats.unpaired++;
      if (conn.pending.length === 0 || conn.pending[0]!.no > rno) {
        this.stats.unpaired++;
        return undefined;
      }
    }
    const p = this.dequeue(conn);
    if (!p) return undefined; // a response to a request we did not see (joined mid-stream)
    if (!p.ex) {
      this.stats.unpaired++; // answers a request whose head we never got
      return undefined;
    }
    const ex = p.ex;
    ex.status = head.status;
    ex.reason = head.reason;
    ex.latencyNs = c.tsNs - Number(ex.tsNs);
    ex.contentType = head.contentType;
    ex.respHeaders = head.headers;
    ex.respHeadTruncated = head.truncated;
    const framing = responseFraming(ex.method, head.status, head.transferEncoding, head.contentLength);
    const expected = messageBytes(framing, head.headBytes);
    const rest = c.len - off;
    const used = this.wholeMessageBytes(c, framing, head.headBytes);
    const ends = used !== undefined && interimBytes + used < rest;
    ex.respBytes = ends ? interimBytes + used : rest;
    const r: Response = {
      ex,
      expected: expected === undefined ? undefined : interimBytes + expected,
      chunked: framing.kind === 'chunked',
      lastTs: c.tsNs,
    };
    conn.response = r;
    if (ends) {
      this.finishResponse(conn, out);
      return interimBytes + used;
    }
    this.finishIfDone(conn, r, c, out);
    return undefined;
  }

  /** Ends the response once its bytes are all here, or its chunked body's last chunk is. */
  private finishIfDone(conn: Conn, r: Response, c: HttpChunk, out: HttpExchange[]): void {
    if (r.expected !== undefined && r.ex.respBytes >= r.expected) this.finishResponse(conn, out);
    else if (r.chunked && (c.tail || c.payload.length === c.len) && endsWithLastChunk(c.payload))
      this.finishResponse(conn, out);
  }

  private finishResponse(conn: Conn, out: HttpExchange[]): void {
    const r = conn.response;
    if (!r) return;
    conn.response = undefined;
    if (conn.sending && conn.sending.ex === r.ex) conn.sending = undefined;
    this.stats.exchanges++;
    out.push(r.ex);
  }

  private close(id: number, out: HttpExchange[]): void {
    const conn = this.conns.get(id);
    if (!conn) return;
    this.conns.delete(id);
    this.endGather(conn, true, out);
    this.endGather(conn, false, out);
    this.finishResponse(conn, out);
    for (let p = this.dequeue(conn); p; p = this.dequeue(conn)) {
      if (!p.ex) continue;
      this.stats.unanswered++;
      out.push(p.ex);
    }
  }
}
