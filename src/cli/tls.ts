/** `wirelens tls`: what each TLS connection's hellos say in clear, with its processes. */
import { TlsHandshake, TlsHandshakes } from '../analysis/tls/handshakes';
import { RunningFamily } from '../probes/family';
import { SockPayloadKernelStats, TLS_HELLO_MAX } from '../probes/sock-payload';
import { KernelSegments } from '../sources/kernel/payload-segments';
import { Clock, monoNowNs } from '../output/clock';
import { outputColumns } from '../output/stdout';
import { tlsJson, tlsTable } from '../output/tls-text';
import { FlagSpec, flagHelp } from './args';
import { LIVE_FLAGS, liveOptions, parseLiveArgs } from './common-flags';
import { LiveTool, runLive } from './live';
import { OfflineTool, READ_FLAG, offlineOptions, runOffline } from './offline';
import { KERNEL_PAYLOAD, PayloadDeps, kernelStatsLine, readKernelStats } from './payload-kernel';

export const TLS_FLAGS: FlagSpec[] = [
  ...LIVE_FLAGS,
  READ_FLAG,
  {
    name: 'timeout',
    type: 'number',
    min: 0.05,
    max: 3600,
    valueName: 'SECONDS',
    help: 'report a ClientHello with no ServerHello after SECONDS (default 5)',
  },
];

export const TLS_HELP = `wirelens tls: TLS handshakes with their processes

One line per TLS connection end on this host: the client side (the socket
that sent the ClientHello, with its process) and, when the server runs here
too, the server side (with the process that answered). From the ClientHello:
the server name (SNI), the ALPN protocols and TLS versions offered; from the
ServerHello: the version and cipher suite chosen, and the ALPN protocol when
TLS 1.2 or older shows it (TLS 1.3 encrypts it). Read from the first bytes of
each connection (cgroup_skb on the root cgroup), in order, so a hello split
over segments or writes is whole. Any port, IPv4 and IPv6, every network
namespace. --pid, --comm (the socket's process) and --port run in the kernel.

With -r FILE (a pcap or pcapng file; - for standard input) the same records
come from the file, on its clock, without root: a wirelens socket-hook
capture gives each socket's records with its process; any other file both
ends' records, processes only from wirelens's pcapng comments.

Lines fit the terminal's width (80 columns, or $COLUMNS, when stdout is not
a terminal); wider terminals get more columns; --json has every field.

options:
${flagHelp(TLS_FLAGS)}

JSON fields: the common ones (saddr/sport is this host's socket), then side
(client/server) status (ok, no_server_hello, no_client_hello, malformed) sni
alpn_offered versions_offered (supported_versions, or the legacy version
when absent) version cipher alpn hello_retry hello_ms (ClientHello to
ServerHello as this socket saw them) error.`;

/** The analysis both sources feed: handshakes, and the summary's figures. */
function tlsAnalysis(timeoutS: number, classify: boolean) {
  const tracker = new TlsHandshakes({
    timeoutNs: Math.round(timeoutS * 1e9),
    maxHello: TLS_HELLO_MAX,
    classify,
  });
  let ok = 0;
  let partial = 0;
  const deliver = (list: TlsHandshake[], emit: (h: TlsHandshake) => void): void => {
    for (const h of list) emit(h);
  };
  // The runners call this for each record they print (within -c, past the file's --pid/--comm/--port).
  const counted = (h: TlsHandshake): void => {
    if (h.status === 'ok') ok++;
    else partial++;
  };
  const summary = (): string => {
    const s = tracker.stats;
    const j = tracker.join.stats;
    return (
      `tls: ${ok} handshakes with both hellos, ${partial} with one (or malformed: ${s.malformed}); ` +
      `${tracker.waiting} still waiting at exit; ${s.notTls} connections not TLS after all; ${s.evicted} evicted; ` +
      `${j.joined} listener segments joined to their connection, ${j.alone} on their own`
    );
  };
  return { tracker, deliver, summary, counted };
}

export function tlsTool(
  timeoutS: number,
  deps: PayloadDeps = KERNEL_PAYLOAD,
  width = outputColumns(),
): LiveTool<TlsHandshake> {
  const table = tlsTable(width);
  const a = tlsAnalysis(timeoutS, false);
  const source = new KernelSegments();
  let running: RunningFamily | undefined;
  let kernel: SockPayloadKernelStats | null = null;
  return {
    name: 'tls',
    start: (opts, features, emit, onBad) =>
      (running = deps.start(
        { dns: false, tls: true, filters: opts.filters, hookMode: opts.hookMode, features },
        (c) => {
          const x = source.push(c);
          if (x) a.deliver(a.tracker.push(x), emit);
        },
        onBad,
      )),
    tick: (now, emit) => {
      // What waits in the ring first: a ServerHello there is not a timeout.
      running?.drain();
      a.deliver(a.tracker.tick(now), emit);
    },
    finish: (emit) => {
      kernel = readKernelStats(deps, running);
      a.deliver(a.tracker.tick(monoNowNs()), emit);
    },
    header: () => table.header(),
    human: (h: TlsHandshake, clock: Clock) => table.line(h, clock),
    json: tlsJson,
    counted: a.counted,
    summary: () => [a.summary(), kernelStatsLine('tls', kernel)],
  };
}

/** `wirelens tls -r FILE`: the same analysis over a capture file's packets. */
export function tlsOfflineTool(timeoutS: number, width = outputColumns()): OfflineTool<TlsHandshake> {
  const table = tlsTable(width);
  const a = tlsAnalysis(timeoutS, true);
  return {
    name: 'tls',
    take: (x, emit) => a.deliver(a.tracker.push(x), emit),
    tick: (now, emit) => a.deliver(a.tracker.tick(now), emit),
    finish: (now, emit) => a.deliver(a.tracker.tick(now), emit),
    header: () => table.header(),
    human: (h: TlsHandshake, clock: Clock) => table.line(h, clock),
    json: tlsJson,
    counted: a.counted,
    summary: () => [a.summary()],
  };
}

export async function tlsCommand(argv: string[]): Promise<number> {
  const flags = parseLiveArgs(argv, TLS_FLAGS, TLS_HELP);
  if (!flags) return 0;
  const timeoutS = (flags.timeout as number | undefined) ?? 5;
  if (flags.read !== undefined) return runOffline(tlsOfflineTool(timeoutS), offlineOptions(flags));
  return runLive(tlsTool(timeoutS), liveOptions(flags));
}
