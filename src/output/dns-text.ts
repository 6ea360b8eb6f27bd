/**
 * `wirelens dns` transactions as human lines (fitted to the output width,
 * see columns.ts) and as JSON lines. Names and answers come from the parser
 * in dig's presentation format (bytes outside printable ASCII as \DDD):
 * printed as they are, one escaping step, so a name reads as dig prints it.
 *
 * Widths: under 180 columns TIME, SIDE (cli/srv), COMM, TYPE, NAME, RCODE,
 * LATENCY and the answers; from 120 on, time to the microsecond, PID and
 * whole task names. From 180 on, the wide table adds PROTO, SERVER and ID.
 */
import { DnsTransaction } from '../analysis/dns/transactions';
import { Clock } from './clock';
import { commonJsonPrefix, leadingColumns } from './common-fields';
import { Column, TextTable } from './columns';
import { formatDuration } from './duration';

const MORE = 120;
const WIDE = 180;

/** The answers column: the answers, or why there are none; a response with the TC bit says so first. */
export function answersText(t: DnsTransaction): string {
  if (t.status === 'malformed') return `(${t.error ?? 'malformed'})`;
  if (t.status === 'timeout') return t.error ? `(${t.error})` : '';
  const list = t.answers.map((a) => `${a.type} ${a.data}`).join(', ');
  return t.truncated ? `(truncated) ${list}`.trimEnd() : list;
}

function statusColumn(t: DnsTransaction): string {
  if (t.status !== 'answered') return t.status;
  return t.rcode ?? '-';
}

const latency = (t: DnsTransaction): string => formatDuration(t.latencyNs);

/** The human lines of `wirelens dns` for an output `width` columns wide. */
export function dnsTable(width: number): TextTable<DnsTransaction> {
  const narrow: Column<DnsTransaction>[] = [
    ...leadingColumns<DnsTransaction>('narrow', MORE),
    { title: 'TYPE', width: 5, cell: (t) => t.qtype ?? '-' },
    { title: 'NAME', width: 16, below: MORE, cut: 'middle', cell: (t) => t.qname ?? '-' },
    { title: 'NAME', width: 30, from: MORE, cut: 'middle', cell: (t) => t.qname ?? '-' },
    { title: 'RCODE', width: 8, cell: statusColumn },
    { title: 'LATENCY', width: 9, right: true, cell: latency },
    { title: 'ANSWERS', width: 8, cell: answersText },
  ];
  const wide: Column<DnsTransaction>[] = [
    ...leadingColumns<DnsTransaction>('wide', MORE),
    { title: 'PROTO', width: 5, cell: (t) => t.transport },
    { title: 'SERVER', width: 24, cut: 'middle', cell: (t) => t.server },
    { title: 'ID', width: 5, right: true, cell: (t) => (t.id === null ? '-' : String(t.id)) },
    { title: 'TYPE', width: 6, cell: (t) => t.qtype ?? '-' },
    { title: 'NAME', width: 30, cut: 'middle', cell: (t) => t.qname ?? '-' },
    { title: 'RCODE', width: 9, cell: statusColumn },
    { title: 'LATENCY', width: 10, right: true, cell: latency },
    { title: 'ANSWERS', width: 8, cell: answersText },
  ];
  return new TextTable(width >= WIDE ? wide : narrow, width);
}

const str = (v: string | null): string => (v === null ? 'null' : JSON.stringify(v));

/** One --json line (without the newline). */
export function dnsJson(t: DnsTransaction, clock: Clock): string {
  return (
    `${commonJsonPrefix(clock, t.tsNs, t.proc, t.sock)},"side":"${t.side}","transport":"${t.transport}",` +
    `"server":"${t.server}","id":${t.id ?? 'null'},"qname":${str(t.qname)},"qtype":${str(t.qtype)},` +
    `"rcode":${str(t.rcode)},"status":"${t.status}","answers":${JSON.stringify(t.answers)},` +
    `"latency_ms":${t.latencyNs === null ? 'null' : t.latencyNs / 1e6},"truncated":${t.truncated},"error":${str(t.error)}}`
  );
}
