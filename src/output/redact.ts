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
  const query = url
    .slice(q + 1)
    .replace(/(^|[&;])([^&;=#]*)=([^&;#]*)/g, (all: string, sep: string, name: string) =>
      secretName(name) ? `${sep}${name}=${REDACTED}` : all,
    );
  return `${path}?${query}`;
}
