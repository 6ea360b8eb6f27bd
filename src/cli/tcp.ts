/**
 * `wirelens tcp`: TCP connections opening and closing with their process,
 * and on request the health events: retransmits, resets, drops with the
 * kernel's reason, RTT samples.
 */
import { TCP_EVENT_KINDS, TcpEventKind, TcpRecord } from '../events/tcp';
import { DEFAULT_TCP_EVENTS, TcpLife } from '../probes/tcp-life';
import { Clock } from '../output/clock';
import { outputColumns } from '../output/stdout';
import { tcpJson, tcpTable } from '../output/tcp-text';
import { UsageError } from '../errors';
import { FlagSpec, Flags, flagHelp } from './args';
import { LIVE_FLAGS, liveOptions, parseLiveArgs } from './common-flags';
import { LiveTool, runLive } from './live';
import { OfflineTool, READ_FLAG, offlineOptions, runOffline } from './offline';
import { TcpLifecycle } from '../analysis/tcp/lifecycle';

export const TCP_FLAGS: FlagSpec[] = [
  ...LIVE_FLAGS,
  READ_FLAG,
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

With -r FILE (a pcap or pcapng file; - for standard input): open, close,
retransmit and reset from the packets, without root (what only the kernel
knows, the socket's RTT, losses and window, drops and RTT samples, is not
in a file).

Lines fit the terminal's width (80 columns, or $COLUMNS, when stdout is not
a terminal); wider terminals get more columns; --json has every field.

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

export function tcpTool(
  events: ReadonlySet<TcpEventKind>,
  rttEveryMs: number | undefined,
  width = outputColumns(),
): LiveTool<TcpRecord> {
  let life: TcpLife | undefined;
  let drops: [string, bigint][] = [];
  const table = tcpTable(width);
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
    header: () => table.header(),
    human: (r: TcpRecord, clock: Clock) => table.line(r, clock),
    json: tcpJson,
  };
}

/** Events a capture file can give: the rest are the kernel's own (drop reasons, RTT samples). */
export const FILE_TCP_EVENTS: readonly TcpEventKind[] = ['open', 'close', 'retransmit', 'reset'];

/** `wirelens tcp -r FILE`: connections and their events as the file's packets show them. */
export function tcpOfflineTool(events: ReadonlySet<TcpEventKind>, width = outputColumns()): OfflineTool<TcpRecord> {
  const table = tcpTable(width);
  const life = new TcpLifecycle({ events });
  return {
    name: 'tcp',
    tcpNotes: true,
    note: (n, emit) => {
      for (const r of life.push(n)) emit(r);
    },
    tick: (now) => life.tick(now),
    finish: () => life.finish(),
    header: () => table.header(),
    human: (r: TcpRecord, clock: Clock) => table.line(r, clock),
    json: tcpJson,
    summary: () => {
      const s = life.stats;
      return [
        `tcp: ${s.connections} connections (${s.midStream} first seen mid-stream: opened before the capture), ` +
          `${s.open} still open at the end, ${s.idle} idle and ${s.evicted} pushed out without a close`,
      ];
    },
  };
}

export async function tcpCommand(argv: string[]): Promise<number> {
  const flags: Flags | null = parseLiveArgs(argv, TCP_FLAGS, TCP_HELP);
  if (!flags) return 0;
  const events = parseEvents(flags.events as string[] | undefined);
  if (flags.read !== undefined) {
    if (flags['rtt-every'] !== undefined)
      throw new UsageError('--rtt-every is for live rtt events; -r reads a file: leave it out');
    const asked = flags.events as string[] | undefined;
    for (const k of events) {
      if (FILE_TCP_EVENTS.includes(k)) continue;
      if (asked?.includes('all')) events.delete(k);
      else
        throw new UsageError(
          `--events ${k}: a capture file cannot give it (the kernel's own); -r gives ${FILE_TCP_EVENTS.join(', ')}`,
        );
    }
    return runOffline(tcpOfflineTool(events), offlineOptions(flags));
  }
  return runLive(tcpTool(events, flags['rtt-every'] as number | undefined), liveOptions(flags));
}
