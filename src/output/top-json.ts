/**
 * `wirelens top --json`: one object per interval with every view's rows:
 * totals since start (bytes, packets, connections, retransmits) and rates
 * over the interval (bits/s, packets/s, connections/s). Stable snake_case fields.
 */
import { ProcRow, Row, TopModel } from '../analysis/stats/traffic-view';

export interface TopJsonOptions {
  ts: string;
  sort: string;
  source: string;
  rows: number;
  mapBytes: number;
  /** Active alerts of running `wirelens guard`s (their published alert objects, with guard_pid). */
  alerts?: Record<string, unknown>[];
}

function counters(r: Row, s: number): Record<string, number> {
  const per = (n: number): number => (s > 0 ? Math.round((n / s) * 100) / 100 : 0);
  return {
    rx_bytes: r.total.rxBytes,
    tx_bytes: r.total.txBytes,
    rx_packets: r.total.rxPkts,
    tx_packets: r.total.txPkts,
    connections: r.total.conns,
    retransmits: r.total.retrans,
    rx_bps: per(r.delta.rxBytes * 8),
    tx_bps: per(r.delta.txBytes * 8),
    rx_pps: per(r.delta.rxPkts),
    tx_pps: per(r.delta.txPkts),
    conns_per_s: per(r.delta.conns),
  };
}

export function topJson(m: TopModel, o: TopJsonOptions): string {
  const s = m.intervalS;
  const rows = <R extends Row>(list: R[], key: (r: R) => Record<string, unknown>): Record<string, unknown>[] =>
    list.slice(0, o.rows).map((r) => ({ ...key(r), ...counters(r, s) }));
  return JSON.stringify({
    ts: o.ts,
    interval_s: Math.round(s * 1000) / 1000,
    uptime_s: Math.round(m.uptimeS * 1000) / 1000,
    sort: o.sort,
    source: o.source,
    map_bytes: o.mapBytes,
    interfaces: rows(m.ifaces, (r) => ({
      name: r.key,
      rx_dropped: r.dropped?.rxTotal ?? null,
      tx_dropped: r.dropped?.txTotal ?? null,
    })),
    processes: rows(m.procs, (r: ProcRow) => ({
      pid: r.pid === 0 ? null : r.pid,
      comm: r.pid === 0 ? null : r.comm,
      uid: r.pid === 0 ? null : r.uid,
    })),
    remotes: rows(m.remotes, (r) => ({ address: r.key })),
    ports: rows(m.ports, (r) => {
      const [protocol, port] = r.key.split('/');
      return { protocol, port: Number(port) };
    }),
    protocols: rows(m.protos, (r) => ({ protocol: r.key })),
    drops: {
      total: m.drops.total,
      per_s: s > 0 ? Math.round((m.drops.delta / s) * 100) / 100 : 0,
      by_reason: Object.fromEntries(m.drops.byReason.map((d) => [d.reason, d.total])),
    },
    full_tables: m.fullTables,
    retransmits: { total: m.retrans.total, per_s: s > 0 ? Math.round((m.retrans.delta / s) * 100) / 100 : 0 },
    alerts: o.alerts ?? [],
  });
}
