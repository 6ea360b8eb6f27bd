/**
 * What `wirelens top` shows, from two snapshots of the kernel's counters:
 * per row the totals since start and the change over the last interval as
 * rates, sorted by what the user asked for. Pure: snapshots in, rows out.
 * A counter that went backwards (its LRU entry was evicted and made again)
 * counts from zero.
 */
import { Counts, TrafficSnapshot, ZERO_COUNTS } from '../../probes/traffic';

export type SortKey = 'bytes' | 'packets' | 'connections';
export const SORT_KEYS: readonly SortKey[] = ['bytes', 'packets', 'connections'];

export interface Row {
  /** Row label: "1234", "10.0.0.1", "tcp/80", "icmp", "eth0". */
  key: string;
  total: Counts;
  /** Over the interval. */
  delta: Counts;
}

export interface ProcRow extends Row {
  pid: number;
  comm: string;
  uid: number;
}

export interface IfaceRow extends Row {
  /** Packets the device dropped (its own counters), when known: over the interval and since start. */
  dropped?: { rx: number; tx: number; rxTotal: number; txTotal: number };
}

export interface TopModel {
  intervalS: number;
  /** Seconds since the first snapshot. */
  uptimeS: number;
  procs: ProcRow[];
  remotes: Row[];
  ports: Row[];
  protos: Row[];
  ifaces: IfaceRow[];
  drops: { total: number; delta: number; byReason: { reason: string; total: number; delta: number }[] };
  retrans: { total: number; delta: number };
  /** Tables at 80% or more of --max-entries: their oldest entries may be evicted, and counted no more. */
  fullTables: { name: string; entries: number; max: number }[];
}

function minus(cur: Counts, prev: Counts | undefined): Counts {
  if (!prev) return { ...cur };
  const d = (a: number, b: number): number => (a >= b ? a - b : a);
  return {
    rxBytes: d(cur.rxBytes, prev.rxBytes),
    rxPkts: d(cur.rxPkts, prev.rxPkts),
    txBytes: d(cur.txBytes, prev.txBytes),
    txPkts: d(cur.txPkts, prev.txPkts),
    conns: d(cur.conns, prev.conns),
    retrans: d(cur.retrans, prev.retrans),
  };
}

const active = (c: Counts): boolean => c.rxPkts + c.txPkts + c.conns + c.retrans > 0;

function metric(c: Counts, by: SortKey): number {
  if (by === 'bytes') return c.rxBytes + c.txBytes;
  if (by === 'packets') return c.rxPkts + c.txPkts;
  return c.conns;
}

/** Busiest over the interval first, then over the whole run, then by key. */
export function sortRows<R extends Row>(rows: R[], by: SortKey): R[] {
  return rows.sort(
    (a, b) =>
      metric(b.delta, by) - metric(a.delta, by) ||
      metric(b.total, by) - metric(a.total, by) ||
      (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
  );
}

/** Totals count from the first snapshot (device counters start at boot, maps at zero). */
function rowsOf(cur: Map<string, Counts>, prev: Map<string, Counts>, first: Map<string, Counts>): Row[] {
  const out: Row[] = [];
  for (const [key, now] of cur) {
    const total = minus(now, first.get(key));
    if (active(total)) out.push({ key, total, delta: minus(now, prev.get(key)) });
  }
  return out;
}

export function buildTopModel(
  first: TrafficSnapshot,
  prev: TrafficSnapshot,
  cur: TrafficSnapshot,
  by: SortKey,
): TopModel {
  const procs: ProcRow[] = [];
  for (const [pid, p] of cur.procs) {
    if (!active(p)) continue;
    procs.push({ key: String(pid), pid, comm: p.comm, uid: p.uid, total: p, delta: minus(p, prev.procs.get(pid)) });
  }
  const ifaces: IfaceRow[] = rowsOf(cur.ifaces, prev.ifaces, first.ifaces).map((r) => {
    const now = cur.devDrops.get(r.key);
    const before = prev.devDrops.get(r.key);
    const start = first.devDrops.get(r.key);
    if (!now || !before || !start) return r;
    const d = (a: number, b: number): number => Math.max(0, a - b);
    return {
      ...r,
      dropped: {
        rx: d(now.rxDropped, before.rxDropped),
        tx: d(now.txDropped, before.txDropped),
        rxTotal: d(now.rxDropped, start.rxDropped),
        txTotal: d(now.txDropped, start.txDropped),
      },
    };
  });
  let dropsTotal = 0;
  let dropsDelta = 0;
  const byReason: TopModel['drops']['byReason'] = [];
  for (const [reason, total] of cur.drops) {
    const before = prev.drops.get(reason) ?? 0;
    const delta = total >= before ? total - before : total;
    dropsTotal += total;
    dropsDelta += delta;
    byReason.push({ reason, total, delta });
  }
  byReason.sort((a, b) => b.delta - a.delta || b.total - a.total);
  const tcp = cur.protos.get('tcp') ?? ZERO_COUNTS;
  const tcpPrev = prev.protos.get('tcp') ?? ZERO_COUNTS;
  return {
    intervalS: Number(cur.tNs - prev.tNs) / 1e9,
    uptimeS: Number(cur.tNs - first.tNs) / 1e9,
    procs: sortRows(procs, by),
    remotes: sortRows(rowsOf(cur.remotes, prev.remotes, first.remotes), by),
    ports: sortRows(rowsOf(cur.ports, prev.ports, first.ports), by),
    // Protocols in their fixed order: there are five.
    protos: [...cur.protos].map(([key, total]) => ({ key, total, delta: minus(total, prev.protos.get(key)) })),
    ifaces: sortRows(ifaces, by),
    drops: { total: dropsTotal, delta: dropsDelta, byReason },
    retrans: { total: tcp.retrans, delta: minus(tcp, tcpPrev).retrans },
    fullTables: cur.tables.filter((t) => t.entries >= 0.8 * t.max),
  };
}
