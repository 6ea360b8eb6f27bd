/**
 * Per-endpoint summary of HTTP exchanges: method + path (query removed),
 * requests, status classes, latency p50/p90/p99/max. Bounded: beyond
 * maxEndpoints, new endpoints are folded into one "(other)" row.
 */
import { LatencyHistogram } from './latency-histogram';

/**
 * What a row is counted from. The caller passes the exchange as it is shown
 * (redacted and decoded: src/output/http-view.ts), so the table's keys are
 * exactly what the record lines print.
 */
export interface EndpointSample {
  side: string;
  method: string;
  url: string;
  status: number | null;
  latencyNs: number | null;
}

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

  add(ex: EndpointSample): void {
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
