/**
 * One request or response head from the first bytes of a chunk, which may be
 * cut short (the kernel copies at most WL_HTTP_HEAD_MAX bytes). Works on the
 * bytes: only the start line and the few fields wirelens needs become
 * strings, unless every header is asked for. Pure; never throws.
 */
import { RequestLine, StatusLine, parseHeaderLines, parseRequestLine, parseStatusLine } from './syntax';

export interface ParsedHead {
  /** All header fields of complete lines, when asked for (wantHeaders); else []. */
  headers: [string, string][];
  host: string | undefined;
  contentType: string | undefined;
  contentLength: string | undefined;
  transferEncoding: string | undefined;
  /** Bytes of the head (start line to blank line), when it ended within the payload. */
  headBytes: number | undefined;
  /** The payload ended before the head did. */
  truncated: boolean;
}

export interface ParsedRequestHead extends ParsedHead, RequestLine {}

export interface ParsedResponse extends ParsedHead, StatusLine {}

const CR = 13;
const LF = 10;

function lineEnd(b: Uint8Array, from: number): number {
  const i = b.indexOf(LF, from);
  return i;
}

function text(b: Uint8Array, from: number, to: number): string {
  let end = to;
  if (end > from && b[end - 1] === CR) end--;
  return Buffer.from(b.buffer, b.byteOffset + from, end - from).toString('latin1');
}

/** Case-insensitive match of an ASCII lower-case name followed by ':' at b[i]. */
function nameIs(b: Uint8Array, i: number, end: number, name: string): boolean {
  if (i + name.length >= end || b[i + name.length] !== 0x3a) return false;
  for (let k = 0; k < name.length; k++) {
    let c = b[i + k]!;
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (c !== name.charCodeAt(k)) return false;
  }
  return true;
}

function value(b: Uint8Array, i: number, end: number): string {
  return text(b, i, end).trim();
}

interface Scan {
  startLine: string;
  /** The start line itself ended within the bytes. */
  lineEnded: boolean;
  fields: ParsedHead;
}

function scan(b: Uint8Array, wantHeaders: boolean): Scan {
  const first = lineEnd(b, 0);
  const fields: ParsedHead = {
    headers: [],
    host: undefined,
    contentType: undefined,
    contentLength: undefined,
    transferEncoding: undefined,
    headBytes: undefined,
    truncated: true,
  };
  if (first < 0) return { startLine: text(b, 0, b.length), lineEnded: false, fields };
  const startLine = text(b, 0, first);
  const lines: string[] = [];
  let i = first + 1;
  while (i < b.length) {
    const e = lineEnd(b, i);
    if (e < 0) break; // the last line is cut: dropped
    const contentEnd = e > i && b[e - 1] === CR ? e - 1 : e;
    if (contentEnd === i) {
      fields.headBytes = e + 1;
      fields.truncated = false;
      break;
    }
    const c = b[i]! | 0x20;
    if (c === 0x68 /* h */ && nameIs(b, i, contentEnd, 'host')) fields.host = value(b, i + 5, contentEnd);
    else if (c === 0x63 /* c */ && nameIs(b, i, contentEnd, 'content-type'))
      fields.contentType = value(b, i + 13, contentEnd);
    else if (c === 0x63 && nameIs(b, i, contentEnd, 'content-length'))
      fields.contentLength = value(b, i + 15, contentEnd);
    else if (c === 0x74 /* t */ && nameIs(b, i, contentEnd, 'transfer-encoding'))
      fields.transferEncoding = value(b, i + 18, contentEnd);
    if (wantHeaders) lines.push(text(b, i, e));
    i = e + 1;
  }
  if (wantHeaders) fields.headers = parseHeaderLines(lines) ?? [];
  return { startLine, lineEnded: true, fields };
}

/* The start line's fields join the scanned ones in place: copying the
 * scanned fields into a new object (spread) costs several times the scan. */
function withLine<L extends RequestLine | StatusLine>(f: ParsedHead, line: L): ParsedHead & L {
  return Object.assign(f, line);
}

export function parseRequestHead(payload: Uint8Array, wantHeaders = true): ParsedRequestHead | null {
  const s = scan(payload, wantHeaders);
  if (!s.lineEnded) {
    // The request line itself is cut: keep what there is of it.
    const m = /^([A-Z]{3,7}) (\S+)/.exec(s.startLine);
    return m ? withLine(s.fields, { method: m[1]!, target: m[2]!, version: '' }) : null;
  }
  const rl = parseRequestLine(s.startLine);
  return rl ? withLine(s.fields, rl) : null;
}

export function parseResponseHead(payload: Uint8Array, wantHeaders = true): ParsedResponse | null {
  const s = scan(payload, wantHeaders);
  if (!s.lineEnded) return null;
  const sl = parseStatusLine(s.startLine);
  return sl ? withLine(s.fields, sl) : null;
}

/** Whether the bytes hold the blank line that ends a head. */
export function headEnds(b: Uint8Array): boolean {
  for (let i = b.indexOf(LF); i >= 0 && i + 1 < b.length; i = b.indexOf(LF, i + 1)) {
    if (b[i + 1] === LF || (b[i + 1] === CR && b[i + 2] === LF)) return true;
  }
  return false;
}

const STATUS_PREFIX = 'HTTP/1.';

/** Whether the bytes can begin a status line ("HTTP/1." or the start of it). */
export function mayBeginStatusLine(b: Uint8Array): boolean {
  const n = Math.min(b.length, STATUS_PREFIX.length);
  for (let i = 0; i < n; i++) if (b[i] !== STATUS_PREFIX.charCodeAt(i)) return false;
  return n > 0;
}
