/**
 * HTTP/1.x start lines and header fields (RFC 9112), over latin1 strings of
 * raw bytes. Pure; never throws: malformed input yields null.
 */
export const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'CONNECT', 'TRACE'] as const;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export interface RequestLine {
  method: string;
  target: string;
  version: string;
}

export interface StatusLine {
  version: string;
  status: number;
  reason: string;
}

export function parseRequestLine(line: string): RequestLine | null {
  const m = /^([A-Z][A-Z_-]{0,19}) (\S+) HTTP\/(\d\.\d)$/.exec(line);
  if (!m) return null;
  return { method: m[1]!, target: m[2]!, version: m[3]! };
}

export function parseStatusLine(line: string): StatusLine | null {
  const m = /^HTTP\/(\d\.\d) (\d{3})(?: (.*))?$/.exec(line);
  if (!m) return null;
  return { version: m[1]!, status: Number(m[2]), reason: m[3] ?? '' };
}

/** Header lines after the start line; obsolete line folding joins with a space. */
export function parseHeaderLines(lines: string[]): [string, string][] | null {
  const out: [string, string][] = [];
  for (const line of lines) {
    if ((line.startsWith(' ') || line.startsWith('\t')) && out.length > 0) {
      out[out.length - 1]![1] += ' ' + line.trim();
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) return null;
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) return null;
    out.push([name, line.slice(colon + 1).trim()]);
  }
  return out;
}

export function header(headers: [string, string][], name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [n, v] of headers) if (n.toLowerCase() === lower) return v;
  return undefined;
}

/** Cheap first-bytes test: could this stream carry HTTP/1 requests? */
export function looksLikeRequest(b: Uint8Array): boolean {
  const head = latin1(b.subarray(0, 9));
  return METHODS.some(
    (m) => head.startsWith(m + ' ') || (head.length <= m.length && m.startsWith(head) && head.length >= 3),
  );
}

/**
 * The methods a connection is recognised by (its first request's): the
 * kernel's test in bpf/http.bpf.c (is_request_start) knows these and no
 * others, so that other text protocols' first words (SMTP's EHLO, POP3's
 * USER) are not taken for requests.
 */
export const REQUEST_METHODS = [
  'GET',
  'PUT',
  'POST',
  'HEAD',
  'PATCH',
  'TRACE',
  'DELETE',
  'OPTIONS',
  'CONNECT',
] as const;

const REQUEST_STARTS = REQUEST_METHODS.map((m) => Buffer.from(`${m} `, 'latin1'));

/**
 * Whether a payload begins with a request method and its space: the test
 * bpf/http.bpf.c makes of a connection's first payload, and of a segment
 * where a direction that lost its place may take it up again.
 */
export function isRequestStart(b: Uint8Array): boolean {
  for (const m of REQUEST_STARTS) {
    if (b.length < m.length) continue;
    let k = 0;
    while (k < m.length && b[k] === m[k]) k++;
    if (k === m.length) return true;
  }
  return false;
}

/** Could these bytes start an HTTP/1 response? */
export function looksLikeResponse(b: Uint8Array): boolean {
  const head = latin1(b.subarray(0, 7));
  return 'HTTP/1.'.startsWith(head) ? head.length >= 5 : head.startsWith('HTTP/1.');
}

export function latin1(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}
