/**
 * Secrets in captured traffic are redacted unless the user asks otherwise:
 * credential headers, and URL query parameters that name one.
 */
export const REDACTED = '[REDACTED]';

const SECRET_HEADERS = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'cookie2',
  'set-cookie2',
  'api-key',
  'private-token',
  'x-api-key',
  'x-goog-api-key',
  'x-vault-token',
  'x-access-token',
  'x-auth-token',
  'x-csrf-token',
  'x-xsrf-token',
  'x-amz-security-token',
]);

/** Headers whose value is a URL: their query and userinfo are redacted like the target's. */
const URL_HEADERS = new Set(['referer', 'location', 'content-location', 'origin']);

/** A parameter name that contains any of these is a secret (client_secret, X-Amz-Signature, user[password], ...). */
const SECRET_PARAM =
  /pass(word|wd)?|pwd|secret|token|api[_-]?key|apikey|auth|session|signature|credential|(^|[_\-.[])(sig|key|code)($|[_\-.\]])/i;

export function redactHeaders(headers: [string, string][]): [string, string][] {
  return headers.map(([n, v]) => {
    const lower = n.toLowerCase();
    if (SECRET_HEADERS.has(lower)) return [n, REDACTED];
    if (URL_HEADERS.has(lower)) return [n, redactUrl(v)];
    return [n, v];
  });
}

/** Removes user:password@ from an absolute URL. */
function redactUserinfo(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#@]*@/i, `$1${REDACTED}@`);
}

/** A parameter name (percent-decoded where it decodes) that names a secret. */
function secretName(raw: string): boolean {
  let name = raw;
  try {
    name = decodeURIComponent(raw);
  } catch {
    /* keep it raw */
  }
  return SECRET_PARAM.test(name);
}

/** Path parameters (`;name=value` in a segment, as servlet containers' `;jsessionid=`): a secret-named one's value goes. */
function redactPathParams(path: string): string {
  if (!path.includes(';')) return path;
  return path.replace(/;([^;/?#=]*)=([^;/?#]*)/g, (all: string, name: string) =>
    secretName(name) ? `;${name}=${REDACTED}` : all,
  );
}

/**
 * @param cut the URL was cut short (url_truncated): an authority that never
 * ends may hold a user:password whose '@' was cut off, so all of it goes.
 *
 * Secret-named query parameters and path parameters lose their values; every
 * other byte, separators included (`&` or `;`), stays as it was.
 */
export function redactUrl(raw: string, cut = false): string {
  if (cut && /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*$/i.test(raw)) return raw.replace(/^([^:]*:\/\/).*$/s, `$1${REDACTED}`);
  const url = redactUserinfo(raw);
  const q = url.indexOf('?');
  const path = redactPathParams(q < 0 ? url : url.slice(0, q));
  if (q < 0) return path;
  const query = url.slice(q + 1);
  let shown = '';
  let at = 0;
  for (const [from, to] of secretParams(query)) {
    shown += query.slice(at, from) + REDACTED;
    at = to;
  }
  return `${path}?${shown}${query.slice(at)}`;
}

const STAR = 0x2a;

/** Byte ranges of one payload's secrets (values only): credential headers' values, userinfo in URLs, secret-named parameters' values. */
function secretRanges(text: string): [number, number][] {
  const out: [number, number][] = [];
  // Header lines: "Name: value" from a line's start to its end.
  for (const m of text.matchAll(/(^|\n)([!#$%&'*+.^_`|~0-9A-Za-z-]+)[ \t]*:[ \t]*([^\r\n]*)/g)) {
    if (!SECRET_HEADERS.has(m[2]!.toLowerCase()) || m[3]!.length === 0) continue;
    const end = m.index + m[0].length;
    out.push([end - m[3]!.length, end]);
  }
  // user:password@ in an absolute URL (a scheme is matched from its first letter only: linear time).
  for (const m of text.matchAll(/(?<![a-z0-9+.-])[a-z][a-z0-9+.-]*:\/\/([^/?#@\s]*)@/gi)) {
    const at = m.index + m[0].length - 1;
    out.push([at - m[1]!.length, at]);
  }
  // name=value where the name names a secret: query strings, path parameters, form bodies.
  for (const r of secretParams(text)) out.push(r);
  return out;
}

/** Whether a character ends a parameter's value: & ; # or white space. */
function valueEnds(c: number): boolean {
  return c === 0x26 || c === 0x3b || c === 0x23 || c === 0x20 || c === 0xa0 || (c >= 0x09 && c <= 0x0d);
}

/**
 * Ranges of the values of secret-named parameters in `text`: each value to
 * the next `&`, `;`, `#` or space, `?` included (so `?next=/a?token=x` and a
 * secret whose value holds a `?` are both covered). A name is looked for
 * after each separator, `?` too, so a parameter inside another one's value
 * is found. Linear: no byte of a value is scanned twice.
 */
function secretParams(text: string): [number, number][] {
  const out: [number, number][] = [];
  let maskedTo = 0;
  for (const m of text.matchAll(/(^|[?&;\s])([^&;=#?\s]+)=/g)) {
    if (!secretName(m[2]!)) continue;
    const start = m.index + m[0].length;
    let end = Math.max(start, maskedTo);
    while (end < text.length && !valueEnds(text.charCodeAt(end))) end++;
    if (end > start && end > maskedTo) out.push([Math.max(start, maskedTo), end]);
    maskedTo = Math.max(maskedTo, end);
  }
  return out;
}

/**
 * A packet's bytes with the secrets in [from, to) (a TCP payload) masked
 * with '*', byte for byte, so a hex or ASCII view keeps its offsets; the
 * same array when there is nothing to mask. One packet is judged alone: a
 * credential header whose name is in an earlier packet is not seen here.
 */
export function maskSecrets(b: Uint8Array, from: number, to: number): Uint8Array {
  if (to <= from) return b;
  const text = Buffer.from(b.buffer, b.byteOffset + from, to - from).toString('latin1');
  const ranges = secretRanges(text);
  if (ranges.length === 0) return b;
  const out = new Uint8Array(b); // a copy (Buffer.slice would be a view)
  for (const [s, e] of ranges) out.fill(STAR, from + s, from + e);
  return out;
}
