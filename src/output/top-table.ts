/**
 * `wirelens top` as text: one table per view (interfaces, processes, remote
 * addresses, local ports, protocols) with rates over the last interval and
 * totals since start. The same text is redrawn in place on a terminal and
 * printed as successive snapshots elsewhere. Task names come from the
 * processes and are escaped before they reach a terminal.
 */
import { IfaceRow, ProcRow, Row, SortKey, TopModel } from '../analysis/traffic-view';
import { escapeTerminal } from './sanitize';
import { formatBitRate, formatBytes, formatCount } from './units';

export interface TableOptions {
  sort: SortKey;
  /** Rows per view at most. */
  rows: number;
  width: number;
  /** Where the views come from, for the title line. */
  source: string;
  mapBytes: number;
  /** Shown in the title on a terminal. */
  keysHelp?: string;
  time: string;
}

interface Column<R> {
  title: string;
  width: number;
  left?: boolean;
  cell(r: R, s: number): string;
}

const rate = (bytes: number, s: number): string => formatBitRate(s > 0 ? (bytes * 8) / s : 0);
const perS = (n: number, s: number): string => `${formatCount(s > 0 ? n / s : 0)}/s`;

function counterColumns<R extends Row>(): Column<R>[] {
  return [
    { title: 'RX', width: 13, cell: (r, s) => rate(r.delta.rxBytes, s) },
    { title: 'TX', width: 13, cell: (r, s) => rate(r.delta.txBytes, s) },
    { title: 'RX PKT', width: 9, cell: (r, s) => perS(r.delta.rxPkts, s) },
    { title: 'TX PKT', width: 9, cell: (r, s) => perS(r.delta.txPkts, s) },
    { title: 'CONN', width: 7, cell: (r) => formatCount(r.total.conns) },
    { title: 'RETR', width: 7, cell: (r) => formatCount(r.total.retrans) },
    { title: 'RX TOTAL', width: 10, cell: (r) => formatBytes(r.total.rxBytes) },
    { title: 'TX TOTAL', width: 10, cell: (r) => formatBytes(r.total.txBytes) },
  ];
}

function table<R extends Row>(
  title: string,
  keyCols: Column<R>[],
  rows: R[],
  s: number,
  o: TableOptions,
  extra: Column<R>[] = [],
): string[] {
  const cols = [...keyCols, ...counterColumns<R>(), ...extra];
  const fit = (c: Column<R>, text: string): string => {
    const t = text.length > c.width ? text.slice(0, c.width - 1) + '~' : text;
    return c.left ? t.padEnd(c.width) : t.padStart(c.width);
  };
  const line = (cells: string[]): string => cells.join(' ').trimEnd().slice(0, o.width);
  const shown = rows.slice(0, o.rows);
  const out = [line(cols.map((c) => fit(c, c.title)))];
  for (const r of shown) out.push(line(cols.map((c) => fit(c, c.cell(r, s)))));
  if (rows.length > shown.length) out.push(`  ... ${rows.length - shown.length} more`);
  if (rows.length === 0) out.push('  (nothing yet)');
  return [`${title}`, ...out];
}

// Keys are addresses, ports and protocol names, or interface names: escaped all the same.
const keyCol = <R extends Row>(title: string, width: number): Column<R> => ({
  title,
  width,
  left: true,
  cell: (r) => escapeTerminal(r.key),
});

export function renderTopTable(m: TopModel, o: TableOptions): string {
  const s = m.intervalS;
  const drops =
    m.drops.byReason
      .filter((d) => d.delta > 0)
      .slice(0, 3)
      .map((d) => `${d.reason} ${perS(d.delta, s)}`)
      .join(', ') || 'none';
  const lines = [
    `wirelens top  ${o.time}  every ${s.toFixed(1)} s, up ${m.uptimeS.toFixed(0)} s  sorted by ${o.sort}  ${o.source}${o.keysHelp ? `  [${o.keysHelp}]` : ''}`.slice(
      0,
      o.width,
    ),
    `drops ${perS(m.drops.delta, s)} (${drops}; ${formatCount(m.drops.total)} in all)  TCP retransmits ${perS(m.retrans.delta, s)} (${formatCount(m.retrans.total)} in all)  maps ${formatBytes(o.mapBytes)}`.slice(
      0,
      o.width,
    ),
    ...m.fullTables.map((t) =>
      `warning: ${t.name} table ${t.entries}/${t.max} full: the least recent are evicted and their counts lost (--max-entries)`.slice(
        0,
        o.width,
      ),
    ),
    '',
    ...table<IfaceRow>('INTERFACES', [keyCol('IFACE', 15)], m.ifaces, s, o, [
      { title: 'DROP', width: 8, cell: (r, sec) => (r.dropped ? perS(r.dropped.rx + r.dropped.tx, sec) : '-') },
    ]),
    '',
    ...table<ProcRow>(
      'PROCESSES',
      [
        { title: 'PID', width: 7, cell: (r) => (r.pid === 0 ? '-' : String(r.pid)) },
        { title: 'COMM', width: 15, left: true, cell: (r) => (r.pid === 0 ? '(no process)' : escapeTerminal(r.comm)) },
      ],
      m.procs,
      s,
      o,
    ),
    '',
    ...table('REMOTE ADDRESSES', [keyCol('ADDRESS', 39)], m.remotes, s, o),
    '',
    ...table('LOCAL PORTS', [keyCol('PORT', 11)], m.ports, s, o),
    '',
    ...table('PROTOCOLS', [keyCol('PROTO', 7)], m.protos, s, { ...o, rows: m.protos.length }),
  ];
  return lines.join('\n') + '\n';
}
