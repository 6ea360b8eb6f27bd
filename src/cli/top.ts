/**
 * `wirelens top`: traffic per process, remote address, local port, protocol
 * and interface, counted in the kernel and read once per interval. On a
 * terminal the view is redrawn in place (b/p/c sort, q quits); otherwise, or
 * with --json, one snapshot per interval is printed.
 */
import { SORT_KEYS, SortKey, buildTopModel } from '../analysis/stats/traffic-view';
import { Features } from '../kernel/features';
import { HookMode } from '../kernel/hooks';
import { native } from '../kernel/native';
import { Iface, resolveIface } from '../kernel/tc';
import { TrafficCounters, TrafficSnapshot } from '../probes/traffic';
import { renderTopTable } from '../output/top-table';
import { topJson } from '../output/top-json';
import { formatBytes } from '../output/units';
import { guardAlertLines } from '../output/guard-alerts';
import { runningGuards } from '../kernel/guard-state';
import { onStdoutClosed, writeOut } from '../output/stdout';
import { UsageError } from '../errors';
import { escapeTerminal } from '../text/sanitize';
import { FlagSpec, Flags, flagHelp } from './args';
import { LIVE_FLAGS, parseLiveArgs } from './common-flags';
import { preflight } from './preflight';
import { reportChoices } from './live';
import { catchStopSignals } from './signals';

export const TOP_FLAGS: FlagSpec[] = [
  {
    name: 'interface',
    short: 'i',
    type: 'string',
    multiple: true,
    valueName: 'IFACE',
    help: 'also count every frame on this interface with TC, process or not (repeatable)',
  },
  {
    name: 'interval',
    type: 'number',
    min: 0.1,
    max: 3600,
    valueName: 'SECONDS',
    help: 'read the counters every SECONDS (default 1)',
  },
  ...LIVE_FLAGS.filter((f) => f.name === 'duration'),
  { name: 'json', type: 'bool', help: 'one JSON snapshot per interval instead of the live view' },
  {
    name: 'sort',
    type: 'string',
    choices: SORT_KEYS,
    valueName: 'KEY',
    help: 'bytes, packets or connections (default bytes; keys b/p/c live)',
  },
  {
    name: 'rows',
    type: 'int',
    min: 1,
    max: 100_000,
    valueName: 'N',
    help: 'rows per view (default: what fits the terminal; 10 in text snapshots, 20 in JSON)',
  },
  {
    name: 'max-entries',
    type: 'int',
    min: 64,
    max: 1 << 18,
    valueName: 'N',
    help: 'entries per kernel table: processes, remote addresses, ports (default 8192, LRU beyond)',
  },
  {
    name: 'hooks',
    type: 'string',
    choices: ['auto', 'fallback'],
    valueName: 'MODE',
    help: 'auto: cheapest hooks this kernel offers; fallback: the portable path (per-packet counting, classic TC)',
  },
  { name: 'verbose', short: 'v', type: 'bool', help: 'explain hook choices on stderr' },
  ...LIVE_FLAGS.filter((f) => f.name === 'help'),
];

export const TOP_HELP = `wirelens top: who sends what, counted in the kernel

Bytes and packets in and out per process, remote address, local port and
protocol (TCP, UDP, ICMP, ICMPv6, other), connections (TCP SYNs) and TCP
retransmits, per-interface rates, and packet drops by the kernel's reason.
Counters live in kernel maps and are read once per interval; no event per
packet reaches user space.

Without -i, every socket's packets on this host are counted (all network
namespaces; bytes are IP packets) and interfaces show their own counters.
With -i, a TC program on each interface counts every frame there (link-layer
bytes), including traffic no process owns (ICMP answered by the kernel,
forwarded packets); the remote/port/protocol views then come from those
interfaces, the process view still from the sockets. wirelens removes its TC
filters at exit, and a clsact qdisc only if it added it; after a SIGKILL the
next start removes what is left and says so.

options:
${flagHelp(TOP_FLAGS)}

JSON: {ts, interval_s, uptime_s, sort, source, map_bytes, interfaces[],
processes[], remotes[], ports[], protocols[], drops{total,per_s,by_reason},
retransmits{total,per_s}, full_tables[], alerts[]}; each row has its key (name |
pid,comm,uid | address | protocol,port | protocol) and rx_bytes tx_bytes
rx_packets tx_packets connections retransmits (since start), rx_bps tx_bps
rx_pps tx_pps conns_per_s (over the interval). alerts[] are the active
alerts of running \`wirelens guard\`s (guard_pid and guard's alert fields),
shown as ALERT lines in the view. A snapshot is printed every
interval and one for the partial interval at stop, unless that is shorter
than a tenth of an interval (with --duration, the tick at the end is the
last one). Leftovers of a killed run in another network namespace:
ip netns exec NAME wirelens doctor --clean.`;

/** wl_top_ifcfg and wl_top_ifaces hold this many (bpf/traffic.bpf.c). */
const MAX_IFACES = 64;

interface TopOptions {
  ifaces: Iface[];
  intervalS: number;
  durationS: number | undefined;
  json: boolean;
  sort: SortKey;
  rows: number | undefined;
  maxEntries: number | undefined;
  hookMode: HookMode;
  verbose: boolean;
}

function topOptions(f: Flags): TopOptions {
  const names = [...new Set((f.interface as string[] | undefined) ?? [])];
  if (names.length > MAX_IFACES) throw new UsageError(`-i: at most ${MAX_IFACES} interfaces (got ${names.length})`);
  return {
    // Resolved before anything touches the kernel: a bad name attaches nothing.
    ifaces: names.map(resolveIface),
    intervalS: (f.interval as number | undefined) ?? 1,
    durationS: f.duration as number | undefined,
    json: f.json === true,
    sort: (f.sort as SortKey | undefined) ?? 'bytes',
    rows: f.rows as number | undefined,
    maxEntries: f['max-entries'] as number | undefined,
    hookMode: (f.hooks as HookMode | undefined) ?? 'auto',
    verbose: f.verbose === true,
  };
}

/**
 * A stop less than this fraction of --interval after the last snapshot prints
 * no further snapshot (the totals it would add are at most that much traffic);
 * with --duration, the tick at the end is the last snapshot.
 */
const MIN_TAIL = 0.1;

const ALT_SCREEN_ON = '\x1b[?1049h\x1b[?25l';
const ALT_SCREEN_OFF = '\x1b[?25h\x1b[?1049l';
const HOME_CLEAR = '\x1b[H';
const CLEAR_REST = '\x1b[J';

export async function topCommand(argv: string[]): Promise<number> {
  const flags = parseLiveArgs(argv, TOP_FLAGS, TOP_HELP);
  if (!flags) return 0;
  const o = topOptions(flags);
  const err = (m: string): void => void process.stderr.write(`wirelens: ${m}\n`);
  const verbose = (m: string): void => {
    if (o.verbose) err(m);
  };
  native().setLibbpfDebug(false);
  // Signals are ours before anything is attached. Start-up is synchronous up to the
  // point runView sets `stop`, so no handler can run before it is in place.
  let stop: () => void = () => undefined;
  const unlisten = catchStopSignals(() => stop());
  const t0 = performance.now();
  let counters: TrafficCounters;
  try {
    preflight(err, verbose);
    counters = new TrafficCounters({
      ifaces: o.ifaces,
      hookMode: o.hookMode,
      features: new Features(),
      intervalS: o.intervalS,
      ...(o.maxEntries ? { maxEntries: o.maxEntries } : {}),
    });
  } catch (e) {
    unlisten();
    throw e;
  }
  try {
    return await runView(o, counters, err, verbose, t0, (f) => (stop = f));
  } finally {
    unlisten();
  }
}

async function runView(
  o: TopOptions,
  counters: TrafficCounters,
  err: (m: string) => void,
  verbose: (m: string) => void,
  t0: number,
  setStop: (f: () => void) => void,
): Promise<number> {
  const live = !o.json && process.stdout.isTTY === true;
  // On the alternate screen, messages would vanish with it: they are printed after it is left.
  const held: string[] = [];
  const say = (m: string): void => (live ? void held.push(m) : err(m));
  let first: TrafficSnapshot;
  let mapBytes: number;
  let source: string;
  try {
    reportChoices(counters.choices, err, verbose);
    const ex = counters.existingOwners;
    if (ex) {
      verbose(
        `named the process of ${ex.owned} socket(s) made before start in ${ex.ms} ms` +
          (ex.refused ? `; ${ex.refused} process(es) would not give their fds` : '') +
          (ex.cut ? '; stopped at the bound (65536 sockets or 3 s): the rest count for (no process)' : ''),
      );
    }
    verbose(
      !counters.perSocket
        ? 'counting: every packet to the tables as it passes'
        : counters.selfFlushMs
          ? `counting: per socket; TCP and UDP sockets iterated in every network namespace before each read (the socket-storage iterator is refused), the rest move their counts at close and every ${counters.selfFlushMs} ms of traffic`
          : 'counting: per socket, every socket iterated before each read',
    );
    verbose(`attached in ${(performance.now() - t0).toFixed(1)} ms`);
    source =
      o.ifaces.length > 0
        ? `TC on ${o.ifaces.map((i) => escapeTerminal(i.name)).join(',')} (${counters.tcKind})`
        : 'all sockets';
    mapBytes = counters.mapMemoryBytes();
    first = counters.snapshot();
  } catch (e) {
    counters.close();
    throw e;
  }
  let prev = first;
  let sort = o.sort;
  let last: [TrafficSnapshot, TrafficSnapshot] = [first, first];

  const show = (before: TrafficSnapshot, cur: TrafficSnapshot): void => {
    last = [before, cur];
    const model = buildTopModel(first, before, cur, sort);
    const now = new Date();
    const guards = runningGuards(); // the alerts `wirelens guard` runs publish
    if (o.json) {
      const alerts = guards.flatMap((g) => g.alerts.map((a) => ({ guard_pid: g.pid, ...a })));
      writeOut(topJson(model, { ts: now.toISOString(), sort, source, rows: o.rows ?? 20, mapBytes, alerts }) + '\n');
      return;
    }
    // 80 columns unless the terminal is wider; on a terminal, every view fits its height.
    const width = live ? process.stdout.columns || 80 : 80;
    const text = renderTopTable(model, {
      sort,
      rows: o.rows ?? (live ? 1000 : 10),
      width,
      ...(live ? { height: process.stdout.rows || 24 } : {}),
      source,
      mapBytes,
      time: now.toTimeString().slice(0, 8),
      ...(live ? { keysHelp: 'b/p/c sort, q quit' } : {}),
      alerts: guardAlertLines(guards, Math.max(40, width)),
    });
    writeOut(live ? HOME_CLEAR + text.replace(/\n$/, '').replace(/\n/g, '\x1b[K\n') + CLEAR_REST : text + '\n');
  };

  return new Promise<number>((resolve) => {
    let stopped = false;
    let failed = false;
    const guarded = (what: string, f: () => void): void => {
      try {
        f();
      } catch (e) {
        say(`error ${what}: ${e instanceof Error ? e.message : String(e)}`);
        failed = true;
        stop();
      }
    };
    const onKey = (b: Buffer): void => {
      const k = b.toString('latin1');
      if (k === 'q' || k === 'Q' || k === '\x03') return stop();
      const s = k === 'b' ? 'bytes' : k === 'p' ? 'packets' : k === 'c' ? 'connections' : undefined;
      if (s) {
        sort = s;
        guarded('redrawing', () => show(...last)); // now, with the last interval's figures
      }
    };
    const onResize = (): void => guarded('redrawing', () => show(...last));
    const tick = setInterval(() => {
      guarded('reading the counters', () => {
        const cur = counters.snapshot();
        show(prev, cur);
        prev = cur;
      });
      // The tick at the end of --duration is the last snapshot: no sliver of a tail after it.
      if (o.durationS !== undefined && Number(prev.tNs - first.tNs) >= (o.durationS - o.intervalS * MIN_TAIL) * 1e9)
        stop();
    }, o.intervalS * 1000);
    const timer = o.durationS !== undefined ? setTimeout(() => stop(), o.durationS * 1000) : undefined;

    function stop(): void {
      if (stopped) return;
      stopped = true;
      clearInterval(tick);
      if (timer) clearTimeout(timer);
      unsubscribe();
      process.stdout.off('resize', onResize);
      let code = failed ? 1 : 0;
      try {
        // The last, partial interval, when it is at least MIN_TAIL of one: rates over a
        // few milliseconds mean nothing. (A live view is being left: nothing would show it.)
        if (!live) {
          const cur = counters.snapshot();
          if (Number(cur.tNs - prev.tNs) >= o.intervalS * MIN_TAIL * 1e9) show(prev, cur);
        }
      } catch (e) {
        say(`error while stopping: ${e instanceof Error ? e.message : String(e)}`);
        code = 1;
      }
      try {
        counters.close();
      } catch (e) {
        say(`error while detaching: ${e instanceof Error ? e.message : String(e)}`);
        code = 1;
      }
      if (live) {
        process.stdin.off('data', onKey);
        try {
          if (process.stdin.isTTY) process.stdin.setRawMode(false);
        } catch {
          /* the terminal hung up */
        }
        process.stdin.pause();
        writeOut(ALT_SCREEN_OFF);
        for (const m of held) err(m);
      }
      err(
        `top: stopped after ${(Number(process.hrtime.bigint() - first.tNs) / 1e9).toFixed(1)} s; kernel maps held ${formatBytes(mapBytes)}`,
      );
      resolve(code);
    }
    setStop(stop);

    const unsubscribe = onStdoutClosed(() => stop());
    if (live) {
      writeOut(ALT_SCREEN_ON);
      if (process.stdin.isTTY) {
        process.stdin.setRawMode(true);
        process.stdin.on('data', onKey);
        process.stdin.resume();
      }
      process.stdout.on('resize', onResize);
      guarded('drawing', () => show(first, first));
    }
  });
}
