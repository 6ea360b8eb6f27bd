/**
 * `wirelens http` as text: one line per exchange, its headers under it with
 * --headers, and the per-endpoint table. Everything printed here comes from
 * the shown form of an exchange (src/output/http-view.ts: redacted, decoded,
 * escaped), so this file only lays it out.
 *
 * Columns are fixed-width and fit 80 columns; a cell longer than its column
 * (an IPv6 peer, an escaped task name) is cut with a `…` mark rather than
 * shifting the columns after it (src/output/columns.ts). On a terminal of 150
 * columns or more the wide layout adds the PID, bytes each way, microseconds
 * and room for any IPv6 peer. The request (method and URL) is last: on a
 * terminal it is cut at the right edge, marked `…`; a pipe or file gets it
 * whole (--json always has every field in full).
 */
import { EndpointStats } from '../analysis/http/stats';
import { formatEndpoint } from '../text/address';
import { Clock } from './clock';
import { cutText, fitCell } from './columns';
import { HttpView } from './http-view';
import { escapeTerminal } from '../text/sanitize';
import { formatCount } from './units';

/** Columns at which the wide layout starts. */
export const HTTP_WIDE_COLUMNS = 150;

export interface HttpTextLayout {
  wide: boolean;
  /** Cut lines at this width (a terminal's); undefined: never cut the last column. */
  width: number | undefined;
}

/** The layout for a terminal of `columns` (undefined: not a terminal). */
export function httpTextLayout(columns: number | undefined): HttpTextLayout {
  return { wide: columns !== undefined && columns >= HTTP_WIDE_COLUMNS, width: columns };
}

/** A duration in at most 7 columns: 0.123ms 12.35ms 123.5ms 1.234s 12.35s 1234s. */
export function compactDuration(ns: number | null): string {
  if (ns === null) return '-';
  const fit = (x: number, unit: string): string | undefined => {
    for (let d = 3; d >= 0; d--) {
      const t = `${x.toFixed(d)}${unit}`;
      if (t.length <= 7) return t;
    }
    return undefined;
  };
  return (ns < 999.95e6 ? fit(ns / 1e6, 'ms') : undefined) ?? fit(ns / 1e9, 's') ?? `${Math.round(ns / 1e9)}s`;
}

interface Column {
  title: string;
  width: number;
  left?: boolean;
  cell(v: HttpView, clock: Clock): string;
}

const remote = (v: HttpView): string => formatEndpoint(v.sock.daddr, v.sock.dport);

function columns(wide: boolean): Column[] {
  const cols: Column[] = [
    {
      title: 'TIME',
      width: wide ? 15 : 12,
      left: true,
      cell: (v, c) => (wide ? c.timeOfDay(v.tsNs) : c.timeOfDay(v.tsNs).slice(0, 12)),
    },
    {
      title: 'SIDE',
      width: wide ? 6 : 4,
      left: true,
      cell: (v) => (wide ? v.side : v.side === 'client' ? 'cli' : 'srv'),
    },
  ];
  if (wide) cols.push({ title: 'PID', width: 7, cell: (v) => (v.proc ? String(v.proc.pid) : '-') });
  cols.push(
    { title: 'COMM', width: wide ? 15 : 8, left: true, cell: (v) => escapeTerminal(v.proc?.comm ?? '-') },
    // The peer: the server for a client's record, the client for a server's.
    { title: 'REMOTE', width: wide ? 47 : 21, left: true, cell: remote },
    { title: 'STS', width: 3, cell: (v) => (v.status === null ? '-' : String(v.status)) },
    { title: 'LATENCY', width: 7, cell: (v) => compactDuration(v.latencyNs) },
  );
  if (wide)
    cols.push(
      { title: 'REQ', width: 6, cell: (v) => formatCount(v.reqBytes) },
      { title: 'RESP', width: 6, cell: (v) => formatCount(v.respBytes) },
    );
  return cols;
}

const NARROW = columns(false);
const WIDE = columns(true);

function cellText(c: Column, text: string): string {
  // The peer, an address:port, is cut in its middle so the port stays.
  return fitCell(text, c.width, { right: c.left !== true, cut: c.title === 'REMOTE' ? 'middle' : 'end' });
}

/** The line ends with free text: cut at a terminal's edge, whole on a pipe or file. */
function withLast(prefix: string, last: string, layout: HttpTextLayout): string {
  return cutText(`${prefix} ${last}`, layout.width ?? Infinity);
}

export function httpHeaderLine(layout: HttpTextLayout): string {
  const cols = layout.wide ? WIDE : NARROW;
  return withLast(cols.map((c) => cellText(c, c.title)).join(' '), 'REQUEST', layout);
}

/** What marks headers past the copied part of a head. */
export const HEADERS_CUT_MARK = '(more headers not captured: the kernel copies the first 2048 bytes of a head)';

export function httpLine(v: HttpView, clock: Clock, layout: HttpTextLayout, headers: boolean): string {
  const cols = layout.wide ? WIDE : NARROW;
  const prefix = cols.map((c) => cellText(c, c.cell(v, clock))).join(' ');
  const line = withLast(prefix, `${v.method} ${v.url}${v.urlTruncated ? '...' : ''}`, layout);
  if (!headers) return line;
  const out = [line];
  for (const [n, val] of v.reqHeaders) out.push(`    > ${n}: ${val}`);
  if (v.reqHeadTruncated) out.push(`    > ${HEADERS_CUT_MARK}`);
  for (const [n, val] of v.respHeaders) out.push(`    < ${n}: ${val}`);
  if (v.respHeadTruncated) out.push(`    < ${HEADERS_CUT_MARK}`);
  return out.join('\n');
}

const ms = (us: number): string => (Number.isNaN(us) ? '-' : (us / 1000).toFixed(us < 10_000 ? 3 : 1));

/**
 * The per-endpoint table (stderr, after a "wirelens: " prefix; stdout with
 * --stats-only): one row per side and endpoint, busiest first; the fixed
 * columns end by column 72 with the prefix, the endpoint last. Endpoints are
 * keyed by the shown form of the URL, so they hold nothing a record line
 * would not. `width`: the columns a row may take (a terminal's, less the
 * prefix): a longer endpoint is cut to it, marked `…`, as a record line's
 * request is; undefined (a pipe or a file): whole, as there.
 */
export function formatHttpStats(rows: EndpointStats[], width?: number, limit = 30): string[] {
  if (rows.length === 0) return ['http: no exchanges'];
  const room = width === undefined ? Infinity : Math.max(STATS_MIN_ENDPOINT, width - STATS_FIXED);
  const lines = [
    `${'SIDE'.padEnd(4)} ${'REQS'.padStart(6)} ${'2xx'.padStart(6)} ${'3xx'.padStart(5)} ${'4xx'.padStart(5)} ` +
      `${'5xx'.padStart(5)} ${'p50ms'.padStart(7)} ${'p99ms'.padStart(7)} ${'maxms'.padStart(7)}  ENDPOINT`,
  ];
  for (const r of rows.slice(0, limit)) lines.push(statsRow(r, room));
  if (rows.length > limit) lines.push(`... ${rows.length - limit} more endpoints`);
  return lines;
}

/** Columns of a table row before its endpoint. */
const STATS_FIXED = 62;
/** The endpoint keeps this many columns however narrow the output (the line wraps rather than lose it). */
const STATS_MIN_ENDPOINT = 16;

function statsRow(r: EndpointStats, room: number): string {
  const n = (x: number, w: number): string => fitCell(formatCount(x), w, { right: true });
  const s = (k: string): number => r.status[k] ?? 0;
  const q = (x: number): string => fitCell(ms(x), 7, { right: true });
  const side = r.side === 'client' ? 'cli' : r.side === 'server' ? 'srv' : r.side;
  return (
    `${side.padEnd(4)} ${n(r.requests, 6)} ${n(s('2xx'), 6)} ${n(s('3xx'), 5)} ${n(s('4xx'), 5)} ${n(s('5xx'), 5)} ` +
    `${q(r.latency.quantile(0.5))} ${q(r.latency.quantile(0.99))} ${q(r.latency.max)}  ${cutText(r.endpoint, room)}`
  );
}
