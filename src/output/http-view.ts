/**
 * An HTTP exchange as it may be shown: the one step every printed or
 * serialised field of `wirelens http` goes through (record lines, --json,
 * the per-endpoint table, summaries). The parser keeps the wire's bytes as
 * latin1 strings; here secrets are redacted (src/output/redact.ts) on those
 * bytes, and then every field becomes safe text once (src/text/sanitize.ts:
 * UTF-8 decoded, controls and invalid bytes as \xNN). Nothing downstream
 * reads the raw exchange's strings.
 */
import { HttpExchange } from '../analysis/http/exchanges';
import { redactHeaders, redactUrl } from './redact';
import { dropCutSequence, latin1Text } from '../text/sanitize';

/**
 * The exchange's fields, every string among them redacted and decoded. The
 * brand keeps a raw exchange from reaching a renderer by mistake.
 */
export interface HttpView extends HttpExchange {
  readonly shown: true;
}

const text = (s: string | undefined): string | undefined => (s === undefined ? undefined : latin1Text(s));

function headers(h: [string, string][], redact: boolean): [string, string][] {
  return (redact ? redactHeaders(h) : h).map(([n, v]) => [latin1Text(n), latin1Text(v)]);
}

/** The target, redacted and decoded; one the kernel's head copy cut ends on a whole character (url_truncated says so). */
function shownUrl(ex: HttpExchange, redact: boolean): string {
  const u = ex.urlTruncated ? dropCutSequence(ex.url) : ex.url;
  return latin1Text(redact ? redactUrl(u, ex.urlTruncated) : u);
}

/** The exchange redacted (unless `redact` is false: --no-redact) and decoded. */
export function httpView(ex: HttpExchange, redact: boolean): HttpView {
  return {
    tsNs: ex.tsNs,
    side: ex.side,
    proc: ex.proc,
    sock: ex.sock,
    method: latin1Text(ex.method),
    url: shownUrl(ex, redact),
    urlTruncated: ex.urlTruncated,
    host: text(ex.host),
    version: latin1Text(ex.version),
    status: ex.status,
    reason: latin1Text(ex.reason),
    latencyNs: ex.latencyNs,
    reqBytes: ex.reqBytes,
    respBytes: ex.respBytes,
    contentType: text(ex.contentType),
    reqHeaders: headers(ex.reqHeaders, redact),
    respHeaders: headers(ex.respHeaders, redact),
    reqHeadTruncated: ex.reqHeadTruncated,
    respHeadTruncated: ex.respHeadTruncated,
    shown: true,
  };
}

/**
 * An endpoint the kernel counted (--stats-only): method and route as raw
 * bytes, in the same shown form as a record's (`cut`: the route was longer
 * than the kernel keeps, marked with a trailing …).
 */
export function httpRoute(method: string, route: string, cut: boolean, redact: boolean): string {
  // The kernel cuts at a byte count: a character it split is left out, the … stands for it.
  const r = cut ? dropCutSequence(route) : route;
  return `${latin1Text(method)} ${latin1Text(redact ? redactUrl(r, cut) : r)}${cut ? '…' : ''}`;
}
