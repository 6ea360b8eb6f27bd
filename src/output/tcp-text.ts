/**
 * `wirelens tcp` records as human lines (fitted to the output width, see
 * columns.ts) and as JSON lines.
 *
 * Widths: under 160 columns a line holds TIME, EVENT, PID, COMM, the local
 * port (LPORT), an arrow (-> active, <- passive), the remote end and the
 * details (a close: duration in three digits, bytes sent/received); from 100 columns on,
 * time to the microsecond, whole task names and a close's socket figures. From 160 on, the wide
 * table: DIR, UID, NETNS, the local address and the details spelt out.
 */
import { TcpHealth, TcpRecord } from '../events/tcp';
import { formatEndpoint } from '../text/address';
import { Clock } from './clock';
import { commonJsonPrefix } from './common-fields';
import { Column, TextTable } from './columns';
import { formatDuration, formatShortDuration } from './duration';
import { shortCount } from './units';

const WIDE = 160;

function healthText(h: TcpHealth): string {
  return `srtt=${formatDuration(h.srttUs * 1000)} min_rtt=${formatDuration(h.minRttUs === null ? null : h.minRttUs * 1000)} retrans=${h.retrans} lost=${h.lost} cwnd=${h.cwnd}`;
}

/** What follows the addresses. */
function details(r: TcpRecord): string {
  switch (r.event) {
    case 'open':
      return '';
    case 'close':
      return `${formatDuration(r.durationNs)} tx=${r.txBytes} rx=${r.rxBytes}${r.health ? ` ${healthText(r.health)}` : ''}`;
    case 'drop':
      return `${r.reason ?? ''} ${protoName(r.sock.protocol)}`;
    case 'retransmit':
      return `${r.state ?? ''} segs=${r.segments ?? 1}${r.health ? ` ${healthText(r.health)}` : ''}`;
    default:
      return `${r.state ?? ''}${r.health ? ` ${healthText(r.health)}` : ''}`;
  }
}

const PROTOS: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp', 58: 'icmpv6' };
const protoName = (p: number): string => PROTOS[p] ?? `proto ${p}`;

function directionColumn(r: TcpRecord): string {
  if (r.event === 'reset') return r.resetDirection ?? '';
  if (r.event === 'close' && !r.established) return 'failed';
  if (r.event === 'open' || r.event === 'close') return r.direction;
  return '';
}

/**
 * Details for the narrow table: what DIR would say beyond the arrow (failed,
 * sent, received) first; a close as duration and bytes sent/received in
 * short units, then the socket's figures while there is room.
 */
function shortDetails(r: TcpRecord, health: boolean): string {
  const d = directionColumn(r);
  const lead = d === 'active' || d === 'passive' || d === '' ? '' : `${d} `;
  if (r.event !== 'close') return lead + details(r);
  const bytes = r.established ? ` ${shortCount(Number(r.txBytes))}/${shortCount(Number(r.rxBytes))}` : '';
  return `${lead}${formatShortDuration(r.durationNs)}${bytes}${health && r.health ? ` ${healthText(r.health)}` : ''}`;
}

const arrow = (r: TcpRecord): string => (r.direction === 'passive' ? '<-' : '->'); // others carry 'unknown'
const pid = (r: TcpRecord): string => (r.proc ? String(r.proc.pid) : '-');
const comm = (r: TcpRecord): string => r.proc?.comm ?? '-';
const time15 = (r: TcpRecord, clock: Clock): string => clock.timeOfDay(r.tsNs);
const remote = (r: TcpRecord): string => formatEndpoint(r.sock.daddr, r.sock.dport);

/** The human lines of `wirelens tcp` for an output `width` columns wide. */
export function tcpTable(width: number): TextTable<TcpRecord> {
  const narrow: Column<TcpRecord>[] = [
    { narrow: true, title: 'TIME', width: 8, below: 100, cell: (r, clock) => clock.timeOfDay(r.tsNs).slice(0, 8) },
    { narrow: true, title: 'TIME', width: 15, from: 100, cell: time15 },
    { narrow: true, title: 'EVENT', width: 7, cell: (r) => (r.event === 'retransmit' ? 'retrans' : r.event) },
    { narrow: true, title: 'PID', width: 7, right: true, cell: pid },
    { title: 'COMM', width: 8, below: 100, cell: comm },
    { title: 'COMM', width: 15, from: 100, cell: comm },
    { narrow: true, title: 'LPORT', width: 5, right: true, cell: (r) => String(r.sock.sport) },
    { narrow: true, title: '', width: 2, cell: arrow },
    { title: 'REMOTE', width: 19, cut: 'middle', cell: remote },
    { title: 'DETAILS', width: 8, cell: (r) => shortDetails(r, width >= 100) },
  ];
  const wide: Column<TcpRecord>[] = [
    { narrow: true, title: 'TIME', width: 15, cell: time15 },
    { narrow: true, title: 'EVENT', width: 10, cell: (r) => r.event },
    { narrow: true, title: 'DIR', width: 8, cell: directionColumn },
    { narrow: true, title: 'PID', width: 7, right: true, cell: pid },
    {
      narrow: true,
      title: 'UID',
      width: 6,
      right: true,
      cell: (r) => (r.proc?.uid !== undefined ? String(r.proc.uid) : '-'),
    },
    { title: 'COMM', width: 16, cell: comm },
    {
      narrow: true,
      title: 'NETNS',
      width: 10,
      right: true,
      cell: (r) => (r.sock.netns === 0 ? '-' : String(r.sock.netns)),
    },
    { title: 'LOCAL/SOURCE', width: 24, cut: 'middle', cell: (r) => formatEndpoint(r.sock.saddr, r.sock.sport) },
    { narrow: true, title: '', width: 2, cell: arrow },
    { title: 'REMOTE/DEST', width: 24, cut: 'middle', cell: remote },
    { title: 'DETAILS', width: 8, cell: details },
  ];
  return new TextTable(width >= WIDE ? wide : narrow, width);
}

const num = (n: number | null | undefined): string => (n === undefined || n === null ? 'null' : String(n));

/** One --json line (without the newline). */
export function tcpJson(r: TcpRecord, clock: Clock): string {
  const close = r.event === 'close';
  const dur = close && r.durationNs !== null ? String(Number(r.durationNs) / 1e6) : 'null';
  const h = r.health;
  const conn = r.event === 'open' || close;
  return (
    `${commonJsonPrefix(clock, r.tsNs, r.proc, r.sock)},"event":"${r.event}",` +
    `"direction":${r.event === 'reset' ? `"${r.resetDirection}"` : conn ? `"${r.direction}"` : 'null'},` +
    `"duration_ms":${dur},"tx_bytes":${close ? String(r.txBytes) : 'null'},` +
    `"rx_bytes":${close ? String(r.rxBytes) : 'null'},"established":${conn ? String(r.established) : 'null'},` +
    `"state":${r.state === null ? 'null' : `"${r.state}"`},"reason":${r.reason === null ? 'null' : JSON.stringify(r.reason)},` +
    `"protocol":"${protoName(r.sock.protocol)}","segments":${num(r.segments)},` +
    `"srtt_us":${num(h?.srttUs)},"min_rtt_us":${num(h?.minRttUs)},"retrans":${num(h?.retrans)},` +
    `"lost":${num(h?.lost)},"cwnd":${num(h?.cwnd)}}`
  );
}
