/**
 * `wirelens tcp`: TCP connections opening and closing with their process,
 * and on request the health events: retransmits, resets, drops with the
 * kernel's reason, RTT samples.
 */
import { TCP_EVENT_KINDS, TcpEventKind, TcpHealth, TcpRecord } from '../events/tcp';
import { DEFAULT_TCP_EVENTS, TcpLife } from '../probes/tcp-life';
import { commonJsonPrefix } from '../output/common-fields';
import { formatEndpoint } from '../output/address';
import { escapeTerminal } from '../output/sanitize';
import { Clock } from '../output/clock';
import { formatDuration } from '../output/duration';
import { UsageError } from '../errors';
import { FlagSpec, Flags, flagHelp } from './args';
import { LIVE_FLAGS, liveOptions, parseLiveArgs } from './common-flags';
import { LiveTool, runLive } from './live';

export const TCP_FLAGS: FlagSpec[] = [
  ...LIVE_FLAGS,
  {
    name: 'events',
    type: 'string',
    multiple: true,
    valueName: 'KINDS',
    help: `which events, comma-separated: ${TCP_EVENT_KINDS.join(',')} or all (default: open,close)`,
  },
  {
    name: 'rtt-every',
    type: 'number',
    min: 1,
    max: 3_600_000,
    valueName: 'MS',
    help: 'rtt events: at most one per connection per MS (default 1000)',
  },
];

export const TCP_HELP = `wirelens tcp: TCP connections and their health, with their process

One line when a connection opens (active connect, or passive accept with the
accepting process) and one when it closes (duration, bytes each way, smoothed
and minimum RTT, segments retransmitted and lost), for IPv4 and IPv6 in every
network namespace. With --events, also: retransmit (each retransmitted
segment, with the socket's state and process), reset (sent or received),
drop (a packet the kernel dropped, any protocol, with the kernel's reason
name), rtt (a sample per connection per --rtt-every). Filters run in the
kernel; drops and resets answering a packet have no process, so --pid and
--comm leave them out.

options:
${flagHelp(TCP_FLAGS)}

JSON fields: ts pid tid uid comm netns saddr sport daddr dport event direction
duration_ms tx_bytes rx_bytes established state reason protocol segments
srtt_us min_rtt_us retrans lost cwnd (saddr/sport is the local end, or a dropped packet's source;
fields that do not apply to an event are null)`;

export function parseEvents(values: string[] | undefined): Set<TcpEventKind> {
  if (!values || values.length === 0) return new Set(DEFAULT_TCP_EVENTS);
  const out = new Set<TcpEventKind>();
  for (const v of values) {
    if (v === 'all') TCP_EVENT_KINDS.forEach((k) => out.add(k));
    else if ((TCP_EVENT_KINDS as readonly string[]).includes(v)) out.add(v as TcpEventKind);
    else throw new UsageError(`--events: unknown event "${v}" (choose from ${TCP_EVENT_KINDS.join(', ')}, all)`);
  }
  return out;
}

function healthText(h: TcpHealth): string {
  return `srtt=${formatDuration(h.srttUs * 1000)} min_rtt=${formatDuration(h.minRttUs === null ? null : h.minRttUs * 1000)} retrans=${h.retrans} lost=${h.lost} cwnd=${h.cwnd}`;
}

/** What follows the addresses on a human line. */
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

const num = (n: number | null | undefined): string => (n === undefined || n === null ? 'null' : String(n));

export function tcpTool(events: ReadonlySet<TcpEventKind>, rttEveryMs: number | undefined): LiveTool<TcpRecord> {
  let life: TcpLife | undefined;
  let drops: [string, bigint][] = [];
  return {
    name: 'tcp',
    start: (opts, features, emit, onBad) => {
      const o = { filters: opts.filters, hookMode: opts.hookMode, features, events };
      life = new TcpLife(rttEveryMs === undefined ? o : { ...o, rttEveryMs }, emit, onBad);
      return life.family;
    },
    finish: () => {
      if (events.has('drop') && life) drops = life.dropsByReason();
    },
    summary: () =>
      drops.length === 0
        ? []
        : [`drops by reason (all packets, before filters): ${drops.map(([n, c]) => `${n} ${c}`).join(', ')}`],
    header: () =>
      `${'TIME'.padEnd(15)} ${'EVENT'.padEnd(10)} ${'DIR'.padEnd(8)} ${'PID'.padStart(7)} ${'UID'.padStart(6)} ${'COMM'.padEnd(16)} ${'NETNS'.padStart(10)} ${'LOCAL/SOURCE'.padEnd(22)}    ${'REMOTE/DEST'.padEnd(22)} DETAILS`,
    human: (r: TcpRecord, clock: Clock) => {
      const arrow = r.direction === 'passive' ? '<-' : '->'; // events other than open/close carry 'unknown'
      return [
        clock.timeOfDay(r.tsNs).padEnd(15),
        r.event.padEnd(10),
        directionColumn(r).padEnd(8),
        (r.proc ? String(r.proc.pid) : '-').padStart(7),
        (r.proc ? String(r.proc.uid) : '-').padStart(6),
        (r.proc ? escapeTerminal(r.proc.comm) : '-').padEnd(16),
        String(r.sock.netns).padStart(10),
        formatEndpoint(r.sock.saddr, r.sock.sport).padEnd(22),
        arrow,
        formatEndpoint(r.sock.daddr, r.sock.dport).padEnd(22),
        details(r),
      ]
        .join(' ')
        .trimEnd();
    },
    json: (r: TcpRecord, clock: Clock) => {
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
    },
  };
}

export async function tcpCommand(argv: string[]): Promise<number> {
  const flags: Flags | null = parseLiveArgs(argv, TCP_FLAGS, TCP_HELP);
  if (!flags) return 0;
  const events = parseEvents(flags.events as string[] | undefined);
  return runLive(tcpTool(events, flags['rtt-every'] as number | undefined), liveOptions(flags));
}
