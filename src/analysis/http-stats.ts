/**
 * Per-endpoint summary of HTTP exchanges: method + path (query removed),
 * requests, status classes, latency p50/p90/p99/max. Bounded: beyond
 * maxEndpoints, new endpoints are folded into one "(other)" row.
 */
import { LatencyHistogram } from './latency-histogram';
import { HttpExchange } from './http-exchanges';

export interface EndpointStats {
  endpoint: string;
  side: string;
  requests: number;
  status: Record<string, number>; // '2xx', '3xx', '4xx', '5xx', '1xx', 'none'
  latency: LatencyHistogram;
}

export class HttpStats {
  private readonly rows = new Map<string, EndpointStats>();
  private readonly maxEndpoints: number;

  constructor(maxEndpoints = 1000) {
    this.maxEndpoints = maxEndpoints;
  }

  add(ex: HttpExchange): void {
    const q = ex.url.indexOf('?');
    let endpoint = `${ex.method} ${q >= 0 ? ex.url.slice(0, q) : ex.url}`;
    let key = `${ex.side} ${endpoint}`;
    if (!this.rows.has(key) && this.rows.size >= this.maxEndpoints) {
      endpoint = '(other)';
      key = `${ex.side} (other)`;
    }
    let row = this.rows.get(key);
    if (!row) {
      row = { endpoint, side: ex.side, requests: 0, status: {}, latency: new LatencyHistogram() };
      this.rows.set(key, row);
    }
    row.requests++;
    const cls = ex.status === null ? 'none' : `${Math.floor(ex.status / 100)}xx`;
    row.status[cls] = (row.status[cls] ?? 0) + 1;
    if (ex.latencyNs !== null) row.latency.add(ex.latencyNs / 1000);
  }

  /** Rows by request count, busiest first. */
  endpoints(): EndpointStats[] {
    return [...this.rows.values()].sort((a, b) => b.requests - a.requests);
  }

  get total(): number {
    let n = 0;
    for (const r of this.rows.values()) n += r.requests;
    return n;
  }
}

const ms = (us: number): string => (Number.isNaN(us) ? '-' : (us / 1000).toFixed(us < 10_000 ? 3 : 1));

export function formatHttpStats(stats: HttpStats, escape: (s: string) => string, limit = 30): string[] {
  const rows = stats.endpoints();
  if (rows.length === 0) return ['http: no exchanges'];
  const lines = [
    `${'SIDE'.padEnd(6)} ${'REQS'.padStart(8)} ${'2xx'.padStart(7)} ${'3xx'.padStart(6)} ${'4xx'.padStart(6)} ${'5xx'.padStart(6)} ${'p50ms'.padStart(8)} ${'p90ms'.padStart(8)} ${'p99ms'.padStart(8)} ${'maxms'.padStart(8)}  ENDPOINT`,
  ];
  for (const r of rows.slice(0, limit)) {
    const s = (k: string): string => String(r.status[k] ?? 0);
    lines.push(
      `${r.side.padEnd(6)} ${String(r.requests).padStart(8)} ${s('2xx').padStart(7)} ${s('3xx').padStart(6)} ${s('4xx').padStart(6)} ${s('5xx').padStart(6)} ` +
        `${ms(r.latency.quantile(0.5)).padStart(8)} ${ms(r.latency.quantile(0.9)).padStart(8)} ${ms(r.latency.quantile(0.99)).padStart(8)} ${ms(r.latency.max).padStart(8)}  ${escape(r.endpoint)}`,
    );
  }
  if (rows.length > limit) lines.push(`... ${rows.length - limit} more endpoints`);
  return lines;
}
