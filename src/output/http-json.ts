/**
 * `wirelens http --json`: one object per exchange, from its shown form
 * (src/output/http-view.ts: redacted and decoded, so no raw control
 * character and no secret reaches a JSON line either).
 */
import { EndpointStats } from '../analysis/http/stats';
import { Clock } from './clock';
import { commonJsonPrefix } from './common-fields';
import { HttpView } from './http-view';

const s = (v: string | undefined): string => (v === undefined ? 'null' : JSON.stringify(v));

export function httpJson(v: HttpView, clock: Clock, headers: boolean): string {
  let line =
    `${commonJsonPrefix(clock, v.tsNs, v.proc, v.sock)},"side":"${v.side}","method":${s(v.method)},` +
    `"url":${s(v.url)},"url_truncated":${v.urlTruncated},"host":${s(v.host)},"version":${s(v.version)},` +
    `"status":${v.status ?? 'null'},"reason":${s(v.reason)},` +
    `"latency_ms":${v.latencyNs === null ? 'null' : v.latencyNs / 1e6},` +
    `"req_bytes":${v.reqBytes},"resp_bytes":${v.respBytes},"content_type":${s(v.contentType)}`;
  if (headers) {
    line +=
      `,"req_headers":${JSON.stringify(v.reqHeaders)},"req_headers_truncated":${v.reqHeadTruncated}` +
      `,"resp_headers":${JSON.stringify(v.respHeaders)},"resp_headers_truncated":${v.respHeadTruncated}`;
  }
  return line + '}';
}

const msOr = (us: number): string => (Number.isNaN(us) ? 'null' : String(Math.round(us) / 1000));

/** --stats-only --json: one object per table, a row per side and endpoint. */
export function httpStatsJson(tsNs: number, rows: EndpointStats[], clock: Clock): string {
  const list = rows.map(
    (r) =>
      `{"side":"${r.side}","endpoint":${JSON.stringify(r.endpoint)},"requests":${r.requests},` +
      `"status":${JSON.stringify(r.status)},"p50_ms":${msOr(r.latency.quantile(0.5))},` +
      `"p99_ms":${msOr(r.latency.quantile(0.99))},"max_ms":${msOr(r.latency.count ? r.latency.max : NaN)}` +
      (r.latencyBuckets ? `,"latency_log2_us":${JSON.stringify(r.latencyBuckets)}` : '') +
      '}',
  );
  return `{"ts":"${clock.iso(tsNs)}","endpoints":[${list.join(',')}]}`;
}
