/**
 * Incremental HTTP/1.x message parser for one direction of one connection.
 * Bytes arrive in pieces of any size (split requests, small reads); each
 * push() returns the events completed by those bytes. Framing follows
 * RFC 9112 section 6: chunked, Content-Length, read-until-close, and the
 * bodiless responses (HEAD, 1xx, 204, 304). Memory is bounded: a header block
 * over maxHeaderBytes ends the stream with an error event instead of growing.
 * Never throws.
 */
import { BodyFraming, isInterim, requestFraming, responseFraming } from './framing';
import { header, latin1, parseHeaderLines, parseRequestLine, parseStatusLine } from './syntax';

export interface Http1Head {
  headers: [string, string][];
  /** Bytes of the start line and header block, CRLFs included. */
  headBytes: number;
}

export interface RequestEvent extends Http1Head {
  kind: 'request';
  method: string;
  /** Request-target as sent, cut at maxUrlBytes. */
  target: string;
  targetTruncated: boolean;
  version: string;
  host: string | undefined;
  expectContinue: boolean;
}

export interface ResponseEvent extends Http1Head {
  kind: 'response';
  version: string;
  status: number;
  reason: string;
  contentType: string | undefined;
  /** 1xx: another response to the same request follows. */
  interim: boolean;
}

/** The message whose head came last is complete; bodyBytes is its payload (de-chunked size for chunked). */
export interface MessageEndEvent {
  kind: 'end';
  bodyBytes: number;
}

export interface ErrorEvent {
  kind: 'error';
  reason: string;
}

export type Http1Event = RequestEvent | ResponseEvent | MessageEndEvent | ErrorEvent;

export interface Http1Options {
  maxHeaderBytes: number;
  maxUrlBytes: number;
}

export const DEFAULT_HTTP1_OPTIONS: Http1Options = { maxHeaderBytes: 64 * 1024, maxUrlBytes: 4096 };

type State =
  | { s: 'head' }
  | { s: 'length'; left: number }
  | { s: 'chunk-size' }
  | { s: 'chunk-data'; left: number }
  | { s: 'chunk-crlf' }
  | { s: 'trailers' }
  | { s: 'until-close' }
  | { s: 'tunnel' }
  | { s: 'dead' };

const MAX_LINE = 1024; // chunk-size and trailer lines

export class Http1Stream {
  readonly role: 'request' | 'response';
  private readonly opts: Http1Options;
  private state: State = { s: 'head' };
  /** Unconsumed bytes of a head or a chunk line, latin1; bounded by maxHeaderBytes. */
  private pending = '';
  private body = 0;
  /** Responses: methods of requests awaiting a response, oldest first (HEAD and CONNECT change framing). */
  private readonly methods: string[] = [];

  constructor(role: 'request' | 'response', opts: Http1Options = DEFAULT_HTTP1_OPTIONS) {
    this.role = role;
    this.opts = opts;
  }

  /** Responses only: a request with this method was sent on the connection. */
  expectResponseTo(method: string): void {
    if (this.methods.length < 1024) this.methods.push(method);
  }

  get dead(): boolean {
    return this.state.s === 'dead';
  }

  push(chunk: Uint8Array): Http1Event[] {
    const out: Http1Event[] = [];
    let i = 0;
    while (i < chunk.length && this.state.s !== 'dead' && this.state.s !== 'tunnel') {
      i += this.step(chunk, i, out);
    }
    return out;
  }

  /** The connection closed: completes a read-until-close body, flags a cut message. */
  end(): Http1Event[] {
    if (this.state.s === 'until-close') {
      this.state = { s: 'head' };
      return [{ kind: 'end', bodyBytes: this.body }];
    }
    if (this.state.s === 'head' && this.pending.replace(/^(\r?\n)+/, '') === '') return [];
    if (this.state.s === 'dead' || this.state.s === 'tunnel') return [];
    this.state = { s: 'dead' };
    return [{ kind: 'error', reason: 'connection closed mid-message' }];
  }

  private fail(out: Http1Event[], reason: string): number {
    this.state = { s: 'dead' };
    this.pending = '';
    out.push({ kind: 'error', reason });
    return Number.MAX_SAFE_INTEGER;
  }

  /** Consumes from chunk[i..]; returns bytes consumed (>0). */
  private step(chunk: Uint8Array, i: number, out: Http1Event[]): number {
    const st = this.state;
    switch (st.s) {
      case 'head':
        return this.stepHead(chunk, i, out);
      case 'length': {
        const n = Math.min(st.left, chunk.length - i);
        st.left -= n;
        this.body += n;
        if (st.left === 0) this.finish(out);
        return n;
      }
      case 'until-close': {
        this.body += chunk.length - i;
        return chunk.length - i;
      }
      case 'chunk-data': {
        const n = Math.min(st.left, chunk.length - i);
        st.left -= n;
        this.body += n;
        if (st.left === 0) this.state = { s: 'chunk-crlf' };
        return n;
      }
      case 'chunk-size':
      case 'chunk-crlf':
      case 'trailers':
        return this.stepLine(chunk, i, out);
      default:
        return chunk.length - i;
    }
  }

  /** Lines of chunked framing: size lines, the CRLF after data, trailers. */
  private stepLine(chunk: Uint8Array, i: number, out: Http1Event[]): number {
    const nl = chunk.indexOf(0x0a, i);
    const end = nl < 0 ? chunk.length : nl + 1;
    this.pending += latin1(chunk.subarray(i, end));
    if (nl < 0) {
      if (this.pending.length > MAX_LINE) return this.fail(out, 'chunk line too long');
      return end - i;
    }
    const line = this.pending.replace(/\r?\n$/, '');
    this.pending = '';
    const st = this.state;
    if (st.s === 'chunk-crlf') {
      if (line !== '') return this.fail(out, 'missing CRLF after chunk data');
      this.state = { s: 'chunk-size' };
    } else if (st.s === 'chunk-size') {
      const m = /^([0-9a-fA-F]{1,15})[ \t]*(;.*)?$/.exec(line);
      if (!m) return this.fail(out, 'bad chunk size');
      const size = parseInt(m[1]!, 16);
      this.state = size === 0 ? { s: 'trailers' } : { s: 'chunk-data', left: size };
    } else if (line === '') {
      this.finish(out);
    }
    return end - i;
  }

  private stepHead(chunk: Uint8Array, i: number, out: Http1Event[]): number {
    const room = this.opts.maxHeaderBytes - this.pending.length;
    const take = Math.min(chunk.length - i, room + 4);
    const before = this.pending.length;
    this.pending += latin1(chunk.subarray(i, i + take));
    // Empty lines before a start line are ignored (RFC 9112 2.2).
    const lead = /^(\r?\n)+/.exec(this.pending);
    const skipped = lead ? lead[0].length : 0;
    const searchFrom = Math.max(skipped, before - 3);
    let endIdx = this.pending.indexOf('\r\n\r\n', searchFrom);
    let sepLen = 4;
    const lf = this.pending.indexOf('\n\n', searchFrom);
    if (lf >= 0 && (endIdx < 0 || lf < endIdx)) {
      endIdx = lf;
      sepLen = 2;
    }
    if (endIdx < 0) {
      if (this.pending.length - skipped > this.opts.maxHeaderBytes) return this.fail(out, 'header block too large');
      if (skipped > 0 && skipped === this.pending.length) this.pending = '';
      return take;
    }
    const headText = this.pending.slice(skipped, endIdx);
    const used = endIdx + sepLen - before; // bytes of this chunk that belong to the head
    this.pending = '';
    this.onHead(headText, endIdx + sepLen - skipped, out);
    return used;
  }

  private onHead(text: string, headBytes: number, out: Http1Event[]): void {
    const lines = text.split(/\r?\n/);
    const headers = parseHeaderLines(lines.slice(1));
    if (!headers) {
      this.fail(out, 'malformed header line');
      return;
    }
    const te = header(headers, 'transfer-encoding');
    const cl = header(headers, 'content-length');
    this.body = 0;
    if (this.role === 'request') {
      const rl = parseRequestLine(lines[0]!);
      if (!rl) {
        this.fail(out, 'not an HTTP/1 request line');
        return;
      }
      const framing = requestFraming(rl.method, te, cl);
      if (framing.kind === 'invalid') {
        this.fail(out, framing.reason);
        return;
      }
      const max = this.opts.maxUrlBytes;
      out.push({
        kind: 'request',
        method: rl.method,
        target: rl.target.length > max ? rl.target.slice(0, max) : rl.target,
        targetTruncated: rl.target.length > max,
        version: rl.version,
        headers,
        headBytes,
        host: header(headers, 'host'),
        expectContinue: /100-continue/i.test(header(headers, 'expect') ?? ''),
      });
      this.frame(framing, out);
      return;
    }
    const sl = parseStatusLine(lines[0]!);
    if (!sl) {
      this.fail(out, 'not an HTTP/1 status line');
      return;
    }
    const interim = isInterim(sl.status);
    // Interim responses leave the request waiting for its final one.
    const framing = interim ? undefined : responseFraming(this.methods.shift(), sl.status, te, cl);
    if (framing?.kind === 'invalid') {
      this.fail(out, framing.reason);
      return;
    }
    out.push({
      kind: 'response',
      version: sl.version,
      status: sl.status,
      reason: sl.reason,
      headers,
      headBytes,
      contentType: header(headers, 'content-type'),
      interim,
    });
    if (!framing) return;
    // A tunnel's response is complete at its head; a CONNECT request is not.
    if (framing.kind === 'tunnel') out.push({ kind: 'end', bodyBytes: 0 });
    this.frame(framing, out);
  }

  private frame(f: Exclude<BodyFraming, { kind: 'invalid' }>, out: Http1Event[]): void {
    switch (f.kind) {
      case 'tunnel':
        this.state = { s: 'tunnel' };
        return;
      case 'chunked':
        this.state = { s: 'chunk-size' };
        return;
      case 'length':
        this.state = { s: 'length', left: f.length };
        return;
      case 'until-close':
        this.state = { s: 'until-close' };
        return;
      case 'none':
        this.finish(out);
    }
  }

  private finish(out: Http1Event[]): void {
    out.push({ kind: 'end', bodyBytes: this.body });
    this.body = 0;
    this.state = { s: 'head' };
  }
}
