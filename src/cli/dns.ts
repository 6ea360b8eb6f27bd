/** `wirelens dns`: every DNS transaction on this host, from each end, with its process. */
import { DnsStats, formatDnsStats } from '../analysis/dns/stats';
import { KernelSegments } from '../sources/kernel/payload-segments';
import { DnsTransaction, DnsTransactions } from '../analysis/dns/transactions';
import { RunningFamily } from '../probes/family';
import { SockPayloadKernelStats } from '../probes/sock-payload';
import { escapeTerminal } from '../text/sanitize';
import { Clock, monoNowNs } from '../output/clock';
import { dnsJson, dnsTable } from '../output/dns-text';
import { outputColumns } from '../output/stdout';
import { UsageError } from '../errors';
import { FlagSpec, flagHelp } from './args';
import { LIVE_FLAGS, liveOptions, parseLiveArgs } from './common-flags';
import { LiveTool, runLive } from './live';
import { OfflineTool, READ_FLAG, offlineOptions, runOffline } from './offline';
import { KERNEL_PAYLOAD, PayloadDeps, kernelStatsLine, readKernelStats } from './payload-kernel';

export const DNS_FLAGS: FlagSpec[] = [
  ...LIVE_FLAGS,
  READ_FLAG,
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

With -r FILE (a pcap or pcapng file; - for standard input) the same records
come from the file, on its clock (--timeout counts packet time), without
root: a wirelens socket-hook capture gives each socket's records with its
process; any other file both ends' records, processes only from wirelens's
pcapng comments. --pid, --comm and --port then apply to each record.

Lines fit the terminal's width (80 columns, or $COLUMNS, when stdout is not
a terminal); wider terminals get more columns; --json has every field.

options:
${flagHelp(DNS_FLAGS)}

JSON fields: the common ones (saddr/sport is this host's socket), then side
(client/server) transport (udp/tcp) server (address:port) id qname qtype
rcode status (answered/timeout/malformed) answers ([{name,type,ttl,data}],
data as dig prints it) latency_ms truncated (the TC bit; the text's answers
say "(truncated)") error (why malformed; for a timeout, that the server
replied with bytes that are not DNS). Names are without their trailing dot,
as dig writes them otherwise (bytes outside printable ASCII as \\DDD).`;

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

/** The analysis both sources feed: transactions, the --name filter, the summary's figures. */
function dnsAnalysis(names: string[], timeoutS: number, classify: boolean) {
  const tracker = new DnsTransactions({ timeoutNs: Math.round(timeoutS * 1e9), classify });
  const stats = new DnsStats();
  const deliver = (list: DnsTransaction[], emit: (t: DnsTransaction) => void): void => {
    for (const t of list) {
      if (!nameMatches(t.qname, names)) continue;
      emit(t);
    }
  };
  const summary = (partialDatagrams: number): string[] => {
    const s = tracker.stats;
    const m = tracker.messages.stats;
    const j = tracker.join.stats;
    return [
      ...formatDnsStats(stats, escapeTerminal),
      `dns: ${tracker.waiting} queries still waiting at exit, ${s.unmatched} responses without their query, ` +
        `${s.late} responses after their timeout (not reported again), ${s.notDns} UDP datagrams not DNS ` +
        `(${s.notDnsReplies} of them replies to a pending query), ` +
        `${s.evicted} pending queries evicted, ${partialDatagrams} datagrams incomplete`,
      `dns: tcp: ${m.brokenStreams} streams broken, ${m.idleStreams} idle and ${m.evictedStreams} evicted (buffers dropped, place kept), ` +
        `${m.droppedMessages} messages dropped with them, ${m.forgottenStreams} places forgotten, ${m.limitedStreams} at the copy limit; ` +
        `${j.joined} listener segments joined to their connection, ${j.alone} on their own`,
    ];
  };
  // The runners call this for each record they print (within -c, past the file's --pid/--comm/--port).
  const counted = (t: DnsTransaction): void => stats.add(t);
  return { tracker, stats, deliver, summary, counted };
}

export function dnsTool(
  names: string[],
  timeoutS: number,
  deps: PayloadDeps = KERNEL_PAYLOAD,
  width = outputColumns(),
): LiveTool<DnsTransaction> {
  const table = dnsTable(width);
  const a = dnsAnalysis(names, timeoutS, false);
  const source = new KernelSegments();
  let running: RunningFamily | undefined;
  let kernel: SockPayloadKernelStats | null = null;
  return {
    name: 'dns',
    start: (opts, features, emit, onBad) =>
      (running = deps.start(
        { dns: true, tls: false, filters: opts.filters, hookMode: opts.hookMode, features },
        (c) => {
          const x = source.push(c);
          if (x) a.deliver(a.tracker.push(x), emit);
        },
        onBad,
      )),
    tick: (now, emit) => {
      // What waits in the ring first: a response there is not a timeout.
      running?.drain();
      source.expire(now);
      a.deliver(a.tracker.tick(now), emit);
    },
    // After the last drain: queries overdue by now are reported, not left waiting.
    finish: (emit) => {
      kernel = readKernelStats(deps, running);
      a.deliver(a.tracker.tick(monoNowNs()), emit);
    },
    header: () => table.header(),
    human: (t: DnsTransaction, clock: Clock) => table.line(t, clock),
    json: dnsJson,
    counted: a.counted,
    periodic: () => formatDnsStats(a.stats, escapeTerminal),
    summary: () => [...a.summary(source.stats.partialDatagrams), kernelStatsLine('dns', kernel)],
  };
}

/** `wirelens dns -r FILE`: the same analysis over a capture file's packets. */
export function dnsOfflineTool(
  names: string[],
  timeoutS: number,
  width = outputColumns(),
): OfflineTool<DnsTransaction> {
  const table = dnsTable(width);
  const a = dnsAnalysis(names, timeoutS, true);
  return {
    name: 'dns',
    take: (x, emit) => a.deliver(a.tracker.push(x), emit),
    tick: (now, emit) => a.deliver(a.tracker.tick(now), emit),
    finish: (now, emit) => a.deliver(a.tracker.tick(now), emit),
    header: () => table.header(),
    human: (t: DnsTransaction, clock: Clock) => table.line(t, clock),
    json: dnsJson,
    counted: a.counted,
    periodic: () => formatDnsStats(a.stats, escapeTerminal),
    summary: () => a.summary(0),
  };
}

export async function dnsCommand(argv: string[]): Promise<number> {
  const flags = parseLiveArgs(argv, DNS_FLAGS, DNS_HELP);
  if (!flags) return 0;
  const names = parseNames(flags.name as string[] | undefined);
  const timeoutS = (flags.timeout as number | undefined) ?? 5;
  if (flags.read !== undefined) return runOffline(dnsOfflineTool(names, timeoutS), offlineOptions(flags));
  return runLive(dnsTool(names, timeoutS), liveOptions(flags));
}
