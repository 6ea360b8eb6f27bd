/**
 * Per-endpoint summary of HTTP exchanges: method and route (the path up to
 * '?', each all-digit segment as {n}), requests, status classes, latency
 * p50/p99/max. The same rule the kernel applies for --stats-only
 * (bpf/http.bpf.c), so both modes give the same table. Bounded: beyond
 * maxEndpoints, new endpoints are folded into one "(other)" row.
 */
import { LatencyHistogram } from '../stats/latency-histogram';

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

/** Latency figures of a row, in microseconds. */
export interface LatencySummary {
  readonly count: number;
  readonly max: number;
  quantile(q: number): number;
}

export interface EndpointStats {
  endpoint: string;
  side: string;
  requests: number;
  status: Record<string, number>; // '2xx', '3xx', '4xx', '5xx', '1xx', 'none'
  latency: LatencySummary;
  /** Counted in the kernel: its log2 buckets of microseconds, as they are. */
  latencyBuckets?: readonly number[];
}

/** A URL's route: the path up to '?' (or '#'), each segment of digits only as {n}. */
export function routeOf(url: string): string {
  // One pass, no array per record: runs of digits that fill a segment become {n}.
  let out = '';
  let from = 0; // start of the text not yet copied
  let seg = 0; // start of the current segment
  let digits = true;
  let i = 0;
  for (; i < url.length; i++) {
    const c = url.charCodeAt(i);
    if (c === 0x3f || c === 0x23) break; // '?' or '#'
    if (c === 0x2f) {
      if (digits && i > seg) {
        out += url.slice(from, seg) + '{n}';
        from = i;
      }
      seg = i + 1;
      digits = true;
    } else if (c < 0x30 || c > 0x39) digits = false;
  }
  if (digits && i > seg) return out + url.slice(from, seg) + '{n}';
  return out + url.slice(from, i);
}

export class HttpStats {
  private readonly rows = new Map<string, EndpointStats & { latency: LatencyHistogram }>();
  private readonly maxEndpoints: number;

  constructor(maxEndpoints = 1000) {
    this.maxEndpoints = maxEndpoints;
  }

  add(ex: EndpointSample): void {
    let endpoint = `${ex.method} ${routeOf(ex.url)}`;
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
    const cls = statusClass(ex.status);
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

export function statusClass(status: number | null): string {
  return status === null ? 'none' : `${Math.floor(status / 100)}xx`;
}

/**
 * Latencies counted in log2 buckets of microseconds (the kernel's, for
 * --stats-only): bucket i holds [2^i, 2^(i+1)) us, bucket 0 also below 1 us.
 * A quantile is its bucket's geometric middle, kept within the exact max:
 * within a factor of 1.42 of the true value.
 */
export class Log2Latency implements LatencySummary {
  readonly count: number;
  /** In microseconds. */
  readonly max: number;

  constructor(
    private readonly buckets: readonly number[],
    maxNs: number,
  ) {
    this.count = buckets.reduce((a, b) => a + b, 0);
    this.max = maxNs / 1000;
  }

  quantile(q: number): number {
    if (this.count === 0) return NaN;
    if (q >= 1) return this.max;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < this.buckets.length; i++) {
      seen += this.buckets[i]!;
      if (seen >= rank) return Math.min(this.max, i === 0 ? 1 : Math.pow(2, i + 0.5));
    }
    return this.max;
  }
}

/** A row counted in the kernel: the same table whether exchanges were sent or counted there. */
export interface KernelRow {
  side: string;
  /** "METHOD route", already in its shown form; '(other)' for the overflow row. */
  endpoint: string;
  count: number;
  /** [0] no final response, [1..5] 1xx..5xx */
  status: readonly number[];
  latMaxNs: number;
  lat: readonly number[];
}

/** The kernel's rows as the table's (rows with the same shown endpoint, e.g. after redaction, are added up). */
export function kernelEndpoints(rows: readonly KernelRow[]): EndpointStats[] {
  const merged = new Map<string, { row: KernelRow; status: number[]; lat: number[]; max: number; count: number }>();
  for (const r of rows) {
    const key = `${r.side} ${r.endpoint}`;
    const m = merged.get(key);
    if (!m) {
      merged.set(key, { row: r, status: [...r.status], lat: [...r.lat], max: r.latMaxNs, count: r.count });
      continue;
    }
    m.count += r.count;
    m.max = Math.max(m.max, r.latMaxNs);
    r.status.forEach((n, i) => (m.status[i] = (m.status[i] ?? 0) + n));
    r.lat.forEach((n, i) => (m.lat[i] = (m.lat[i] ?? 0) + n));
  }
  const classes = ['none', '1xx', '2xx', '3xx', '4xx', '5xx'];
  return [...merged.values()]
    .map(({ row, status, lat, max, count }) => ({
      endpoint: row.endpoint,
      side: row.side,
      requests: count,
      status: Object.fromEntries(classes.map((c, i) => [c, status[i] ?? 0]).filter(([, n]) => n !== 0)),
      latency: new Log2Latency(lat, max),
      latencyBuckets: lat,
    }))
    .sort((a, b) => b.requests - a.requests);
}
