/**
 * An HTTP exchange as it may be shown: the one step every printed or
 * serialised field of `wirelens http` goes through (record lines, --json,
 * the per-endpoint table, summaries). The parser keeps the wire's bytes as
 * latin1 strings; here secrets are redacted (src/output/redact.ts) on those
 * bytes, and then every field becomes safe text once (src/text/sanitize.ts:
 * UTF-8 decoded, controls and invalid bytes as \xNN). Nothing downstream
 * reads the raw exchange's strings.
 */
import { HttpExchange } from '../analysis/http-exchanges';
import { ProcInfo, SockInfo } from '../events/record';
import { redactHeaders, redactUrl } from './redact';
import { latin1Text } from '../text/sanitize';

export interface HttpView {
  tsNs: bigint;
  side: 'client' | 'server';
  proc: ProcInfo | null;
  sock: SockInfo;
  method: string;
  url: string;
  urlTruncated: boolean;
  host: string | undefined;
  version: string;
  status: number | null;
  reason: string;
  latencyNs: number | null;
  reqBytes: number;
  respBytes: number;
  contentType: string | undefined;
  reqHeaders: [string, string][];
  respHeaders: [string, string][];
  /** Headers past what the kernel copied of the request head are missing. */
  reqHeadersTruncated: boolean;
  respHeadersTruncated: boolean;
}

const text = (s: string | undefined): string | undefined => (s === undefined ? undefined : latin1Text(s));

function headers(h: [string, string][], redact: boolean): [string, string][] {
  return (redact ? redactHeaders(h) : h).map(([n, v]) => [latin1Text(n), latin1Text(v)]);
}

/** The exchange redacted (unless `redact` is false: --no-redact) and decoded. */
export function httpView(ex: HttpExchange, redact: boolean): HttpView {
  return {
    tsNs: ex.tsNs,
    side: ex.side,
    proc: ex.proc,
    sock: ex.sock,
    method: latin1Text(ex.method),
    url: latin1Text(redact ? redactUrl(ex.url, ex.urlTruncated) : ex.url),
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
    reqHeadersTruncated: ex.reqHeadTruncated,
    respHeadersTruncated: ex.respHeadTruncated,
  };
}
