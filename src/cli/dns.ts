/** `wirelens dns`: every DNS transaction on this host, from each end, with its process. */
import { DnsStats, formatDnsStats } from '../analysis/dns-stats';
import { DnsTransaction, DnsTransactions } from '../analysis/dns-transactions';
import { RunningFamily } from '../probes/family';
import { SockPayloadKernelStats } from '../probes/sock-payload';
import { commonJsonPrefix } from '../output/common-fields';
import { escapeTerminal } from '../output/sanitize';
import { Clock } from '../output/clock';
import { formatDuration } from '../output/duration';
import { UsageError } from '../errors';
import { FlagSpec, flagHelp } from './args';
import { LIVE_FLAGS, liveOptions, parseLiveArgs } from './common-flags';
import { LiveTool, runLive } from './live';
import { KERNEL_PAYLOAD, PayloadDeps, kernelStatsLine, readKernelStats } from './payload-kernel';

export const DNS_FLAGS: FlagSpec[] = [
  ...LIVE_FLAGS,
  {
    name: 'name',
    type: 'string',
    multiple: true,
    valueName: 'NAME',
    help: 'only queries for NAME or names under it (suffix match; applied in wirelens, not in the kernel)',
  },
  {
    name: 'timeout',
    type: 'number',
    min: 0.05,
    max: 3600,
    valueName: 'SECONDS',
    help: 'report a query with no response after SECONDS as timeout (default 5)',
  },
  {
    name: 'stats',
    type: 'number',
    min: 0.1,
    max: 86400,
    valueName: 'SECONDS',
    help: 'print the summary to stderr every SECONDS',
  },
];

export const DNS_HELP = `wirelens dns: DNS queries and responses with their processes

One line per transaction (a query and its response), from each end on this
host: the asking process (client side) and, when the server runs here too,
the answering one (server side). UDP and TCP, IPv4 and IPv6, any port, in
every network namespace; found by content in the kernel (cgroup_skb on the
root cgroup). Queries with no response within --timeout are reported as
timeout, once (a later response is counted, not reported); messages that do
not parse as malformed, with the reason.
--pid, --comm (the socket's process) and --port run in the kernel; --name
runs in wirelens, on the parsed query name. The summary on exit gives the
busiest names, the NXDOMAIN and SERVFAIL rates and latency per server,
and what was not reported or not copied, counted.

options:
${flagHelp(DNS_FLAGS)}

JSON fields: the common ones (saddr/sport is this host's socket), then side
(client/server) transport (udp/tcp) server (address:port) id qname qtype
rcode status (answered/timeout/malformed) answers ([{name,type,ttl,data}],
data as dig prints it) latency_ms truncated (the TC bit) error (why
malformed). Names are without their trailing dot.`;

/** --name values, checked and normalised (lower case, no trailing dot). */
export function parseNames(values: string[] | undefined): string[] {
  return (values ?? []).map((v) => {
    const n = v.toLowerCase().replace(/\.$/, '');
    if (n === '' || n.length > 253 || !/^[\x21-\x7e]+$/.test(n) || n.includes('..')) {
      throw new UsageError(
        `--name "${v}" is not a domain name (printable ASCII, at most 253 characters, no empty label)`,
      );
    }
    return n;
  });
}

/** True when qname is one of `names` or under one of them. */
export function nameMatches(qname: string | null, names: string[]): boolean {
  if (names.length === 0) return true;
  if (qname === null) return false;
  const q = qname.toLowerCase();
  return names.some((n) => q === n || q.endsWith(`.${n}`));
}

function answersText(t: DnsTransaction): string {
  if (t.status === 'malformed') return `(${t.error ?? 'malformed'})`;
  return t.answers.map((a) => `${a.type} ${a.data}`).join(', ');
}

function statusColumn(t: DnsTransaction): string {
  if (t.status !== 'answered') return t.status;
  return t.rcode ?? '-';
}

const str = (v: string | null): string => (v === null ? 'null' : JSON.stringify(v));

export function dnsTool(
  names: string[],
  timeoutS: number,
  deps: PayloadDeps = KERNEL_PAYLOAD,
): LiveTool<DnsTransaction> {
  const tracker = new DnsTransactions({ timeoutNs: BigInt(Math.round(timeoutS * 1e9)) });
  const stats = new DnsStats();
  let running: RunningFamily | undefined;
  let kernel: SockPayloadKernelStats | null = null;
  const deliver = (list: DnsTransaction[], emit: (t: DnsTransaction) => void): void => {
    for (const t of list) {
      if (!nameMatches(t.qname, names)) continue;
      stats.add(t);
      emit(t);
    }
  };
  return {
    name: 'dns',
    start: (opts, features, emit, onBad) =>
      (running = deps.start(
        { dns: true, tls: false, filters: opts.filters, hookMode: opts.hookMode, features },
        (c) => deliver(tracker.push(c), emit),
        onBad,
      )),
    tick: (now, emit) => {
      // What waits in the ring first: a response there is not a timeout.
      running?.drain();
      deliver(tracker.tick(now), emit);
    },
    // After the last drain: queries overdue by now are reported, not left waiting.
    finish: (emit) => {
      kernel = readKernelStats(deps, running);
      deliver(tracker.tick(process.hrtime.bigint()), emit);
    },
    header: () =>
      `${'TIME'.padEnd(15)} ${'SIDE'.padEnd(6)} ${'PID'.padStart(7)} ${'COMM'.padEnd(16)} ${'PROTO'.padEnd(5)} ${'SERVER'.padEnd(22)} ${'ID'.padStart(5)} ${'TYPE'.padEnd(6)} ${'NAME'.padEnd(30)} ${'RCODE'.padEnd(9)} ${'LATENCY'.padStart(10)}  ANSWERS`,
    human: (t: DnsTransaction, clock: Clock) =>
      [
        clock.timeOfDay(t.tsNs).padEnd(15),
        t.side.padEnd(6),
        (t.proc ? String(t.proc.pid) : '-').padStart(7),
        escapeTerminal(t.proc?.comm ?? '-').padEnd(16),
        t.transport.padEnd(5),
        t.server.padEnd(22),
        (t.id === null ? '-' : String(t.id)).padStart(5),
        escapeTerminal(t.qtype ?? '-').padEnd(6),
        escapeTerminal(t.qname ?? '-').padEnd(30),
        statusColumn(t).padEnd(9),
        formatDuration(t.latencyNs).padStart(10),
        ` ${escapeTerminal(answersText(t))}`,
      ]
        .join(' ')
        .trimEnd(),
    json: (t: DnsTransaction, clock: Clock) =>
      `${commonJsonPrefix(clock, t.tsNs, t.proc, t.sock)},"side":"${t.side}","transport":"${t.transport}",` +
      `"server":"${t.server}","id":${t.id ?? 'null'},"qname":${str(t.qname)},"qtype":${str(t.qtype)},` +
      `"rcode":${str(t.rcode)},"status":"${t.status}","answers":${JSON.stringify(t.answers)},` +
      `"latency_ms":${t.latencyNs === null ? 'null' : t.latencyNs / 1e6},"truncated":${t.truncated},"error":${str(t.error)}}`,
    periodic: () => formatDnsStats(stats, escapeTerminal),
    summary: () => {
      const s = tracker.stats;
      const m = tracker.messages.stats;
      const j = tracker.join.stats;
      return [
        ...formatDnsStats(stats, escapeTerminal),
        `dns: ${tracker.waiting} queries still waiting at exit, ${s.unmatched} responses without their query, ` +
          `${s.late} responses after their timeout (not reported again), ${s.notDns} UDP datagrams not DNS, ` +
          `${s.evicted} pending queries evicted, ${m.partialDatagrams} datagrams incomplete`,
        `dns: tcp: ${m.brokenStreams} streams broken, ${m.idleStreams} idle and ${m.evictedStreams} evicted (buffers dropped, place kept), ` +
          `${m.droppedMessages} messages dropped with them, ${m.forgottenStreams} places forgotten, ${m.limitedStreams} at the copy limit; ` +
          `${j.joined} listener segments joined to their connection, ${j.alone} on their own`,
        kernelStatsLine('dns', kernel),
      ];
    },
  };
}

export async function dnsCommand(argv: string[]): Promise<number> {
  const flags = parseLiveArgs(argv, DNS_FLAGS, DNS_HELP);
  if (!flags) return 0;
  const names = parseNames(flags.name as string[] | undefined);
  return runLive(dnsTool(names, (flags.timeout as number | undefined) ?? 5), liveOptions(flags));
}
