/**
 * Incremental HTTP/1.x message parser for one direction of one connection.
 * Bytes arrive in pieces of any size (split requests, small reads); each
 * push() returns the events completed by those bytes. Framing follows
 * RFC 9112 section 6: chunked, Content-Length, read-until-close, and the
 * bodiless responses (HEAD, 1xx, 204, 304). Memory is bounded: a header block
 * over maxHeaderBytes ends the stream with an error event instead of growing,
 * and a head is gathered as bytes, its end looked for only in what is new
 * (a head arriving a byte at a time costs its length, not its square).
 * Every message's bytes on the wire (head, body and framing) are counted.
 * Never throws.
 */
import { BodyFraming, isInterim, requestFraming, responseFraming } from './framing';
import { header, latin1, parseHeaderLines, parseRequestLine, parseStatusLine } from './syntax';

export interface Http1Head {
  headers: [string, string][];
  /** Bytes of the start line and header block, CRLFs included. */
  headBytes: number;
  /** Bytes of the message so far: its head and the empty lines before it. */
  bytes: number;
  /** The head's first keepHeadBytes bytes (a copy), when asked for. */
  raw?: Uint8Array;
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
  /** Bytes of the whole message on the wire: head, body, chunk framing and trailers. */
  bytes: number;
}

export interface ErrorEvent {
  kind: 'error';
  reason: string;
}

export type Http1Event = RequestEvent | ResponseEvent | MessageEndEvent | ErrorEvent;

export interface Http1Options {
  maxHeaderBytes: number;
  maxUrlBytes: number;
  /** Keep a copy of each head's first bytes, up to this many (Http1Head.raw); 0: none. */
  keepHeadBytes?: number;
}

export const DEFAULT_HTTP1_OPTIONS: Http1Options = { maxHeaderBytes: 64 * 1024, maxUrlBytes: 4096 };

const LF = 0x0a;
const CR = 0x0d;

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
  /** Unconsumed bytes of a chunk line, latin1; bounded by MAX_LINE. */
  private pending = '';
  /** The head being gathered (its first byte is not an empty line's), bounded by maxHeaderBytes + 4. */
  private head = new Uint8Array(256);
  private headLen = 0;
  /** A CR that may begin an empty line before a start line, waiting for its LF. */
  private leadCR = false;
  private body = 0;
  /** Bytes of the current message on the wire so far. */
  private wire = 0;
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

  /** Bytes of the current message so far (0 between messages). */
  get messageBytes(): number {
    return this.wire;
  }

  /** A head has begun and not ended (empty lines before a start line do not count). */
  get inHead(): boolean {
    return this.state.s === 'head' && this.headLen > 0;
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
      const e: MessageEndEvent = { kind: 'end', bodyBytes: this.body, bytes: this.wire };
      this.wire = 0;
      return [e];
    }
    if (this.state.s === 'head' && this.headLen === 0) return [];
    if (this.state.s === 'dead' || this.state.s === 'tunnel') return [];
    this.state = { s: 'dead' };
    return [{ kind: 'error', reason: 'connection closed mid-message' }];
  }

  private fail(out: Http1Event[], reason: string): number {
    this.state = { s: 'dead' };
    this.pending = '';
    this.head = new Uint8Array(0);
    this.headLen = 0;
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
        this.wire += n;
        if (st.left === 0) this.finish(out);
        return n;
      }
      case 'until-close': {
        this.body += chunk.length - i;
        this.wire += chunk.length - i;
        return chunk.length - i;
      }
      case 'chunk-data': {
        const n = Math.min(st.left, chunk.length - i);
        st.left -= n;
        this.body += n;
        this.wire += n;
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
    this.wire += end - i;
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
    let j = i;
    // Empty lines before a start line are ignored (RFC 9112 2.2); they count as the message's bytes.
    if (this.headLen === 0) {
      while (j < chunk.length) {
        const c = chunk[j]!;
        if (c === LF) this.leadCR = false;
        else if (c === CR && !this.leadCR) this.leadCR = true;
        else break;
        j++;
      }
      this.wire += j - i;
      if (j === chunk.length) return j - i;
      if (this.leadCR) {
        // A CR that was not the start of an empty line begins the head.
        this.leadCR = false;
        this.append(Uint8Array.of(CR), 0, 1);
      }
    }
    const before = this.headLen;
    const take = Math.min(chunk.length - j, this.opts.maxHeaderBytes + 4 - before);
    this.append(chunk, j, j + take);
    const h = Buffer.from(this.head.buffer, this.head.byteOffset, this.headLen);
    const from = Math.max(0, before - 3);
    let endIdx = h.indexOf('\r\n\r\n', from, 'latin1');
    let sepLen = 4;
    const lf = h.indexOf('\n\n', from, 'latin1');
    if (lf >= 0 && (endIdx < 0 || lf < endIdx)) {
      endIdx = lf;
      sepLen = 2;
    }
    if (endIdx < 0) {
      this.wire += take;
      if (this.headLen > this.opts.maxHeaderBytes) return this.fail(out, 'header block too large');
      return j - i + take;
    }
    const headBytes = endIdx + sepLen;
    const used = headBytes - before; // bytes of this chunk's part that belong to the head
    this.wire += used;
    const keep = this.opts.keepHeadBytes ?? 0;
    const raw = keep > 0 ? this.head.slice(0, Math.min(headBytes, keep)) : undefined;
    const text = latin1(this.head.subarray(0, endIdx));
    this.headLen = 0;
    if (this.head.length > 4096) this.head = new Uint8Array(256);
    this.onHead(text, headBytes, raw, out);
    return j - i + used;
  }

  /** Appends chunk[from, to) to the head, growing its buffer by doubling. */
  private append(chunk: Uint8Array, from: number, to: number): void {
    const need = this.headLen + (to - from);
    if (need > this.head.length) {
      let cap = Math.max(256, this.head.length);
      while (cap < need) cap *= 2;
      const grown = new Uint8Array(cap);
      grown.set(this.head.subarray(0, this.headLen));
      this.head = grown;
    }
    this.head.set(chunk.subarray(from, to), this.headLen);
    this.headLen = need;
  }

  private onHead(text: string, headBytes: number, raw: Uint8Array | undefined, out: Http1Event[]): void {
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
        bytes: this.wire,
        ...(raw ? { raw } : {}),
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
      bytes: this.wire,
      ...(raw ? { raw } : {}),
      contentType: header(headers, 'content-type'),
      interim,
    });
    if (!framing) {
      // An interim response is a message of its own.
      this.wire = 0;
      return;
    }
    // A tunnel's response is complete at its head; a CONNECT request is not.
    if (framing.kind === 'tunnel') out.push({ kind: 'end', bodyBytes: 0, bytes: this.wire });
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
    out.push({ kind: 'end', bodyBytes: this.body, bytes: this.wire });
    this.body = 0;
    this.wire = 0;
    this.state = { s: 'head' };
  }
}
