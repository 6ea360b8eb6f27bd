/**
 * One request or response head from the first bytes of a chunk, which may be
 * cut short (the kernel copies at most WL_HTTP_HEAD_MAX bytes). Pure; never
 * throws.
 */
import { RequestLine, StatusLine, header, latin1, parseHeaderLines, parseRequestLine, parseStatusLine } from './syntax';

export interface ParsedHead {
  /** Header fields of complete lines only. */
  headers: [string, string][];
  /** Bytes of the head (start line to blank line), when it ended within the payload. */
  headBytes: number | undefined;
  /** The payload ended before the head did. */
  truncated: boolean;
}

export interface ParsedRequestHead extends ParsedHead, RequestLine {}
export interface ParsedResponseHead extends ParsedHead, StatusLine {}

function split(payload: Uint8Array): { lines: string[]; headBytes: number | undefined; truncated: boolean; rest: string } {
  const text = latin1(payload);
  // Whichever blank line comes first ends the head (CRLF or bare LF heads).
  let end = text.indexOf('\r\n\r\n');
  let sep = 4;
  const lf = text.indexOf('\n\n');
  if (lf >= 0 && (end < 0 || lf < end)) {
    end = lf;
    sep = 2;
  }
  if (end >= 0) return { lines: text.slice(0, end).split(/\r?\n/), headBytes: end + sep, truncated: false, rest: text.slice(end + sep) };
  const lines = text.split(/\r?\n/);
  lines.pop(); // the last line is cut
  return { lines, headBytes: undefined, truncated: true, rest: '' };
}

function fields(lines: string[]): [string, string][] {
  return parseHeaderLines(lines.slice(1)) ?? [];
}

export function parseRequestHead(payload: Uint8Array): ParsedRequestHead | null {
  const s = split(payload);
  let first = s.lines[0];
  if (first === undefined) {
    // The request line itself is cut: keep what there is of it.
    const m = /^([A-Z]{3,7}) (\S+)/.exec(latin1(payload));
    if (!m) return null;
    return { method: m[1]!, target: m[2]!, version: '', headers: [], headBytes: undefined, truncated: true };
  }
  const rl = parseRequestLine(first);
  if (!rl) return null;
  return { ...rl, headers: fields(s.lines), headBytes: s.headBytes, truncated: s.truncated };
}

export interface ParsedResponse extends ParsedResponseHead {
  /** Body bytes that arrived in the same payload (for chunked endings). */
  bodyText: string;
}

export function parseResponseHead(payload: Uint8Array): ParsedResponse | null {
  const s = split(payload);
  const first = s.lines[0];
  if (first === undefined) return null;
  const sl = parseStatusLine(first);
  if (!sl) return null;
  return { ...sl, headers: fields(s.lines), headBytes: s.headBytes, truncated: s.truncated, bodyText: s.rest };
}

export { header };
