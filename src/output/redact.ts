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

/**
 * @param cut the URL was cut short (url_truncated): an authority that never
 * ends may hold a user:password whose '@' was cut off, so all of it goes.
 */
export function redactUrl(raw: string, cut = false): string {
  if (cut && /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*$/i.test(raw)) return raw.replace(/^([^:]*:\/\/).*$/s, `$1${REDACTED}`);
  const url = redactUserinfo(raw);
  const q = url.indexOf('?');
  if (q < 0) return url;
  const parts = url
    .slice(q + 1)
    .split(/[&;]/)
    .map((p) => {
      const eq = p.indexOf('=');
      if (eq < 0) return p;
      let name = p.slice(0, eq);
      try {
        name = decodeURIComponent(name);
      } catch {
        /* keep it raw */
      }
      return SECRET_PARAM.test(name) ? `${p.slice(0, eq)}=${REDACTED}` : p;
    });
  return `${url.slice(0, q)}?${parts.join('&')}`;
}
