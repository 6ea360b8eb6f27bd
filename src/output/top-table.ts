/**
 * `wirelens top` as text: one table per view (interfaces, processes, remote
 * addresses, local ports, protocols) with rates over the last interval and
 * totals since start. The same text is redrawn in place on a terminal and
 * printed as successive snapshots elsewhere. Every line fits `width` columns:
 * below 120 the narrow set of columns (rates, connections/s, totals), from
 * 120 the wide one (packets/s, connection and retransmit totals too); key
 * columns take what is left, cut with a `…` (addresses in the middle, so the
 * %iface of a link-local address stays; see columns.ts). With `height`, every view fits the
 * terminal with its heading. Names are escaped before they reach a terminal.
 */
import { IfaceRow, ProcRow, Row, SortKey, TopModel } from '../analysis/stats/traffic-view';
import { escapeTerminal } from '../text/sanitize';
import { clipText, displayWidth, fitCell } from './columns';
import { formatBitRate, formatBytes, formatCount } from './units';

export interface TableOptions {
  sort: SortKey;
  /** Rows per view at most. */
  rows: number;
  /** Columns of every line (80 unless the terminal is wider). */
  width: number;
  /** Lines of the terminal: rows per view are cut so that everything fits. */
  height?: number;
  /** Where the views come from, for the title line. */
  source: string;
  mapBytes: number;
  /** Shown in the title on a terminal. */
  keysHelp?: string;
  time: string;
  /** Active alerts of running guards, one line each (guardAlertLines). */
  alerts?: string[];
}

/** From this width on, the wide set of columns. */
export const WIDE_FROM = 120;

interface Column<R> {
  title: string;
  width: number;
  left?: boolean;
  /** Cut in the middle rather than at the end. */
  middle?: boolean;
  cell(r: R, s: number): string;
}

const per = (n: number, s: number): number => (s > 0 ? n / s : 0);
const perS = (n: number, s: number): string => `${formatCount(per(n, s))}/s`;

function counterColumns<R extends Row>(wide: boolean): Column<R>[] {
  if (!wide) {
    return [
      { title: 'RX bit/s', width: 8, cell: (r, s) => formatCount(per(r.delta.rxBytes * 8, s)) },
      { title: 'TX bit/s', width: 8, cell: (r, s) => formatCount(per(r.delta.txBytes * 8, s)) },
      { title: 'CONN/s', width: 6, cell: (r, s) => formatCount(per(r.delta.conns, s)) },
      { title: 'RX TOTAL', width: 9, cell: (r) => formatBytes(r.total.rxBytes) },
      { title: 'TX TOTAL', width: 9, cell: (r) => formatBytes(r.total.txBytes) },
    ];
  }
  return [
    { title: 'RX', width: 12, cell: (r, s) => formatBitRate(per(r.delta.rxBytes * 8, s)) },
    { title: 'TX', width: 12, cell: (r, s) => formatBitRate(per(r.delta.txBytes * 8, s)) },
    { title: 'RX PKT', width: 8, cell: (r, s) => perS(r.delta.rxPkts, s) },
    { title: 'TX PKT', width: 8, cell: (r, s) => perS(r.delta.txPkts, s) },
    { title: 'CONN/s', width: 6, cell: (r, s) => formatCount(per(r.delta.conns, s)) },
    { title: 'CONN', width: 6, cell: (r) => formatCount(r.total.conns) },
    { title: 'RETR', width: 6, cell: (r) => formatCount(r.total.retrans) },
    { title: 'RX TOTAL', width: 9, cell: (r) => formatBytes(r.total.rxBytes) },
    { title: 'TX TOTAL', width: 9, cell: (r) => formatBytes(r.total.txBytes) },
  ];
}

/** A view: its heading, key columns (the last one takes the room left) and extra columns after the counters. */
interface View<R extends Row> {
  heading: string;
  keys: Column<R>[];
  /** Longest the last key column gets. */
  keyMax: number;
  rows: R[];
  extra?: Column<R>[];
  /** Rows shown whatever the budget (protocols: few and fixed). */
  all?: boolean;
}

function renderView<R extends Row>(v: View<R>, s: number, width: number, wide: boolean, shown: number): string[] {
  const counters = counterColumns<R>(wide);
  const rest = [...counters, ...(v.extra ?? [])];
  const keys = v.keys.map((k) => ({ ...k }));
  const last = keys[keys.length - 1]!;
  const fixed = [...keys.slice(0, -1), ...rest].reduce((n, c) => n + c.width + 1, 0);
  const longest = Math.max(
    displayWidth(last.title),
    ...v.rows.slice(0, shown).map((r) => displayWidth(last.cell(r, s))),
  );
  last.width = Math.max(4, Math.min(v.keyMax, longest, width - fixed));
  const cols = [...keys, ...rest];
  const line = (cells: string[]): string => clipText(cells.join(' ').trimEnd(), width);
  const fit = (c: Column<R>, t: string): string =>
    fitCell(t, c.width, { right: !c.left, cut: c.middle ? 'middle' : 'end' });
  const out = [v.heading, line(cols.map((c) => fit(c, c.title)))];
  for (const r of v.rows.slice(0, shown)) out.push(line(cols.map((c) => fit(c, c.cell(r, s)))));
  if (v.rows.length > shown) out.push(`  ... ${v.rows.length - shown} more`);
  if (v.rows.length === 0) out.push('  (nothing yet)');
  return out;
}

/** Lines a view takes with at most `n` rows: heading, header, rows, and a "more" or "nothing" line. */
function viewLines(v: View<Row>, n: number): number {
  const shown = Math.min(n, v.rows.length);
  return 2 + shown + (v.rows.length > shown || v.rows.length === 0 ? 1 : 0);
}

// Keys are addresses, ports and protocol names, or interface names: escaped all the same.
const keyCol = <R extends Row>(title: string, middle = false): Column<R> => ({
  title,
  width: 0,
  left: true,
  middle,
  cell: (r) => escapeTerminal(r.key),
});

export function renderTopTable(m: TopModel, o: TableOptions): string {
  const s = m.intervalS;
  const width = Math.max(40, o.width);
  const wide = width >= WIDE_FROM;
  const drops =
    m.drops.byReason
      .filter((d) => d.delta > 0)
      .slice(0, 3)
      .map((d) => `${d.reason} ${perS(d.delta, s)}`)
      .join(', ') || 'none';
  const title = `wirelens top  ${o.time}  every ${s.toFixed(1)} s, up ${m.uptimeS.toFixed(0)} s  sorted by ${o.sort}  ${o.source}`;
  const keys = o.keysHelp ? `  [${o.keysHelp}]` : '';
  const head = [
    displayWidth(title + keys) <= width ? title + keys : title,
    `drops ${perS(m.drops.delta, s)} (${drops}; ${formatCount(m.drops.total)} in all)  TCP retransmits ${perS(m.retrans.delta, s)} (${formatCount(m.retrans.total)} in all)  maps ${formatBytes(o.mapBytes)}`,
    ...(o.alerts ?? []).map((l) => clipText(l, width)),
    ...m.fullTables.map(
      (t) =>
        `warning: ${t.name} table ${t.entries}/${t.max} full: the least recent are evicted and their counts lost (--max-entries)`,
    ),
  ].map((l) => clipText(l, width));

  const views: View<Row>[] = [
    {
      heading: 'INTERFACES',
      keys: [keyCol('IFACE')],
      keyMax: 16,
      rows: m.ifaces,
      extra: [
        {
          title: 'DROP/s',
          width: 7,
          cell: (r, sec) => {
            const d = (r as IfaceRow).dropped;
            return d ? perS(d.rx + d.tx, sec) : '-';
          },
        },
      ],
    },
    {
      heading: 'PROCESSES',
      keys: [
        { title: 'PID', width: 7, cell: (r) => ((r as ProcRow).pid === 0 ? '-' : String((r as ProcRow).pid)) },
        {
          title: 'COMM',
          width: 0,
          left: true,
          cell: (r) => ((r as ProcRow).pid === 0 ? '(no process)' : escapeTerminal((r as ProcRow).comm)),
        },
      ],
      keyMax: 16,
      rows: m.procs,
    },
    { heading: 'REMOTE ADDRESSES', keys: [keyCol('ADDRESS', true)], keyMax: 46, rows: m.remotes },
    { heading: 'LOCAL PORTS', keys: [keyCol('PORT')], keyMax: 11, rows: m.ports },
    { heading: 'PROTOCOLS', keys: [keyCol('PROTO')], keyMax: 7, rows: m.protos, all: true },
  ];

  // Rows per view: at most o.rows; on a terminal, the most that fit its height, with blank lines
  // between views when there is room, and lines left over to the busiest views (processes first).
  const counts = views.map((v) => (v.all ? v.rows.length : o.rows));
  let blanks = true;
  if (o.height !== undefined) {
    const budget = o.height - head.length;
    const need = (gaps: boolean): number =>
      views.reduce((t, v, i) => t + viewLines(v, counts[i]!), 0) + (gaps ? views.length : 0);
    const setAll = (k: number): void => views.forEach((v, i) => (counts[i] = v.all ? v.rows.length : k));
    let n = Math.min(o.rows, Math.max(1, ...views.map((v) => v.rows.length)));
    setAll(n);
    while (n > 1 && need(true) > budget) setAll(--n);
    blanks = need(true) <= budget;
    if (!blanks) {
      // Short terminal: no blank lines, and only the protocols that carried traffic.
      const p = views[4]!;
      p.rows = p.rows.filter((r) => r.total.rxPkts + r.total.txPkts > 0);
      counts[4] = p.rows.length;
    }
    for (let grew = true; grew;) {
      grew = false;
      for (const i of [1, 2, 3, 0]) {
        const v = views[i]!;
        if (counts[i]! >= Math.min(o.rows, v.rows.length)) continue;
        counts[i]!++;
        if (need(blanks) <= budget) grew = true;
        else counts[i]!--;
      }
    }
  }
  const lines = [...head];
  views.forEach((v, i) => {
    if (blanks) lines.push('');
    lines.push(...renderView(v, s, width, wide, counts[i]!));
  });
  return (o.height !== undefined ? lines.slice(0, o.height) : lines).join('\n') + '\n';
}
