/**
 * The `wirelens dns` summary: transactions by outcome, the busiest names,
 * the NXDOMAIN and SERVFAIL rates, and latency percentiles per server and
 * side. Bounded: beyond maxKeys names (or servers), new ones are folded into
 * "(other)".
 */
import { LatencyHistogram } from '../stats/latency-histogram';
import { DnsTransaction } from './transactions';

interface ServerRow {
  side: string;
  server: string;
  latency: LatencyHistogram;
}

export class DnsStats {
  total = 0;
  answered = 0;
  timeouts = 0;
  malformed = 0;
  nxdomain = 0;
  servfail = 0;
  private readonly names = new Map<string, number>();
  private readonly servers = new Map<string, ServerRow>();
  private readonly maxKeys: number;

  constructor(maxKeys = 10_000) {
    this.maxKeys = maxKeys;
  }

  add(t: DnsTransaction): void {
    this.total++;
    if (t.status === 'timeout') this.timeouts++;
    else if (t.status === 'malformed') this.malformed++;
    else this.answered++;
    if (t.rcode === 'NXDOMAIN') this.nxdomain++;
    if (t.rcode === 'SERVFAIL') this.servfail++;
    if (t.qname !== null) {
      const name = t.qname.toLowerCase();
      const key = this.names.has(name) || this.names.size < this.maxKeys ? name : '(other)';
      this.names.set(key, (this.names.get(key) ?? 0) + 1);
    }
    if (t.latencyNs !== null) {
      let key = `${t.side} ${t.server}`;
      if (!this.servers.has(key) && this.servers.size >= this.maxKeys) key = `${t.side} (other)`;
      let row = this.servers.get(key);
      if (!row) {
        row = { side: t.side, server: key.slice(t.side.length + 1), latency: new LatencyHistogram() };
        this.servers.set(key, row);
      }
      row.latency.add(t.latencyNs / 1000);
    }
  }

  /** Names by transaction count, most first. */
  topNames(limit: number): [string, number][] {
    return [...this.names].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, limit);
  }

  serverRows(): ServerRow[] {
    return [...this.servers.values()].sort((a, b) => b.latency.count - a.latency.count);
  }
}

const pct = (n: number, d: number): string => (d === 0 ? '-' : `${((100 * n) / d).toFixed(1)}%`);
const ms = (us: number): string => (Number.isNaN(us) ? '-' : `${(us / 1000).toFixed(3)}ms`);

/** Summary lines (stderr); `escape` makes captured names safe for a terminal. */
export function formatDnsStats(s: DnsStats, escape: (t: string) => string, topN = 10): string[] {
  if (s.total === 0) return ['dns: no transactions'];
  const lines = [
    `dns: ${s.total} transactions: ${s.answered} answered, ${s.timeouts} timed out, ${s.malformed} malformed; ` +
      `NXDOMAIN ${pct(s.nxdomain, s.answered)}, SERVFAIL ${pct(s.servfail, s.answered)} of answered`,
  ];
  const top = s.topNames(topN);
  if (top.length > 0) lines.push(`dns: top names: ${top.map(([n, c]) => `${escape(n)} ${c}`).join(', ')}`);
  for (const r of s.serverRows()) {
    const h = r.latency;
    lines.push(
      `dns: latency ${r.side} side, server ${escape(r.server)}: ${h.count} answered, p50 ${ms(h.quantile(0.5))}, p99 ${ms(h.quantile(0.99))}, max ${ms(h.max)}`,
    );
  }
  return lines;
}
