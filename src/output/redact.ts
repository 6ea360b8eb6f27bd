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
  'x-api-key',
  'x-auth-token',
  'x-csrf-token',
  'x-amz-security-token',
]);

const SECRET_PARAM = /^(pass(word|wd)?|pwd|secret|token|access_token|refresh_token|id_token|api[_-]?key|apikey|auth|key|session|sessionid|sig|signature)$/i;

export function redactHeaders(headers: [string, string][]): [string, string][] {
  return headers.map(([n, v]) => (SECRET_HEADERS.has(n.toLowerCase()) ? [n, REDACTED] : [n, v]));
}

export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const parts = url
    .slice(q + 1)
    .split('&')
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
