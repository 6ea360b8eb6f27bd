/**
 * `wirelens guard`: SYN floods, port scans and floods from one source or
 * many, judged once per second from counters the kernel keeps (TC on the
 * interfaces, tp_btf, each namespace's netstat), one line per alert event;
 * with --block, a flooding source is dropped at ingress for a while.
 * Composition only: flags -> kernel counters -> detectors -> lines.
 */
import * as crypto from 'node:crypto';
import * as os from 'node:os';
import { GuardEngine } from '../analysis/detect/engine';
import { AlertEvent } from '../analysis/detect/alerts';
import { BlockAction, BlockPlan } from '../analysis/detect/block-plan';
import { DEFAULT_THRESHOLDS, Thresholds } from '../analysis/detect/thresholds';
import { Features } from '../kernel/features';
import { HookMode } from '../kernel/hooks';
import { native } from '../kernel/native';
import { Iface, ifaceState, resolveIface, upIfaces } from '../kernel/tc';
import { removeDeadGuardStates, removeGuardState, writeGuardState } from '../kernel/guard-state';
import { Prefix, parsePrefix } from '../net/ip-text';
import { DEFAULT_SIZES, GuardCounters, GuardSizes, SCAN_PORTS_MAX } from '../probes/guard';
import { Clock } from '../output/clock';
import { alertJson, alertLine, alertObject, blockLine, blockObject } from '../output/guard-alerts';
import {
  IfaceState,
  allowAllNote,
  downAtStartNote,
  ifaceChangeNote,
  ifaceEventJson,
  ifaceNames,
} from '../output/guard-notes';
import { onStdoutClosed, terminalColumns, writeOut } from '../output/stdout';
import { formatBytes } from '../output/units';
import { UsageError } from '../errors';
import { FlagSpec, Flags, flagHelp } from './args';
import { LIVE_FLAGS, parseLiveArgs } from './common-flags';
import { preflight } from './preflight';
import { reportChoices } from './live';
import { catchStopSignals } from './signals';

/** wl_guard_ifcfg holds this many. */
const MAX_IFACES = 64;

interface Tunable {
  flag: string;
  key: keyof Thresholds;
  type: 'int' | 'number';
  min: number;
  max: number;
  help: string;
}

/** Every threshold flag: its Thresholds field and what it means (the default is in the help). */
const TUNABLES: Tunable[] = [
  {
    flag: 'syn-rate',
    key: 'synRate',
    type: 'int',
    min: 1,
    max: 1e8,
    help: 'SYN/s to one port, under half completing: SYN flood',
  },
  {
    flag: 'syn-evidence-rate',
    key: 'synEvidenceRate',
    type: 'int',
    min: 1,
    max: 1e8,
    help: 'SYN/s to one port that, with the kernel reporting SYN-queue trouble or its queues near the backlog, make a SYN flood',
  },
  {
    flag: 'scan-ports',
    key: 'scanPorts',
    type: 'int',
    min: 2,
    max: SCAN_PORTS_MAX, // what the scan bitmaps can count
    help: 'ports per remote refused or whose SYNs went unanswered within --scan-window: scan',
  },
  { flag: 'scan-window', key: 'scanWindowS', type: 'int', min: 5, max: 86400, help: 'seconds a scan is counted over' },
  {
    flag: 'source-syn',
    key: 'sourceSyn',
    type: 'int',
    min: 1,
    max: 1e8,
    help: 'SYN/s from one source, mostly not completing: flood',
  },
  { flag: 'source-udp', key: 'sourceUdp', type: 'int', min: 1, max: 1e9, help: 'UDP packets/s from one source: flood' },
  {
    flag: 'source-icmp',
    key: 'sourceIcmp',
    type: 'int',
    min: 1,
    max: 1e9,
    help: 'ICMP packets/s from one source: flood',
  },
  {
    flag: 'source-pps',
    key: 'sourcePps',
    type: 'int',
    min: 1,
    max: 1e9,
    help: 'packets/s of any kind from one source: flood',
  },
  {
    flag: 'udp-rate',
    key: 'udpRate',
    type: 'int',
    min: 1,
    max: 1e9,
    help: 'UDP packets/s to one port (or spread over ports): UDP flood',
  },
  {
    flag: 'icmp-rate',
    key: 'icmpRate',
    type: 'int',
    min: 1,
    max: 1e9,
    help: 'ICMP packets/s to this host: ICMP flood',
  },
  {
    flag: 'flood-factor',
    key: 'floodFactor',
    type: 'number',
    min: 1.5,
    max: 1e6,
    help: 'packets/s this many times the baseline: distributed flood',
  },
  {
    flag: 'flood-min-pps',
    key: 'floodMinPps',
    type: 'int',
    min: 1,
    max: 1e9,
    help: '... and at least this many packets/s',
  },
  {
    flag: 'flood-min-sources',
    key: 'floodMinSources',
    type: 'int',
    min: 2,
    max: 1e9,
    help: '... from at least this many distinct sources',
  },
  {
    flag: 'sustain',
    key: 'sustainS',
    type: 'int',
    min: 1,
    max: 3600,
    help: 'seconds a flood must last before its alert starts',
  },
  {
    flag: 'quiet',
    key: 'quietS',
    type: 'int',
    min: 1,
    max: 86400,
    help: 'seconds without it before a flood alert ends',
  },
  {
    flag: 'scan-quiet',
    key: 'scanQuietS',
    type: 'int',
    min: 1,
    max: 86400,
    help: 'seconds without new ports, refusals or unanswered SYNs before a scan alert ends',
  },
  {
    flag: 'update',
    key: 'updateS',
    type: 'int',
    min: 1,
    max: 86400,
    help: 'seconds between updates of a lasting alert',
  },
  {
    flag: 'suppress',
    key: 'suppressS',
    type: 'int',
    min: 0,
    max: 604800,
    help: 'seconds after a scan alert ends that the same source raises none',
  },
];

export const GUARD_FLAGS: FlagSpec[] = [
  {
    name: 'interface',
    short: 'i',
    type: 'string',
    multiple: true,
    valueName: 'IFACE',
    help: 'watch this interface (repeatable; default: every interface up at start; later ones are not picked up)',
  },
  ...LIVE_FLAGS.filter((f) => f.name === 'json' || f.name === 'duration'),
  { name: 'block', type: 'bool', help: 'drop a flooding single source at TC ingress for --block-ttl (opt-in)' },
  {
    name: 'block-ttl',
    type: 'int',
    min: 1,
    max: 86400,
    valueName: 'SECONDS',
    help: 'how long a block lasts; renewed while its flood goes on (default 60)',
  },
  {
    name: 'allow',
    type: 'string',
    multiple: true,
    valueName: 'CIDR',
    help: 'never block these (repeatable; loopback and this host are always allowed)',
  },
  ...TUNABLES.map((t): FlagSpec => ({
    name: t.flag,
    type: t.type,
    min: t.min,
    max: t.max,
    valueName: 'N',
    help: `${t.help} (default ${DEFAULT_THRESHOLDS[t.key]})`,
  })),
  {
    name: 'max-sources',
    type: 'int',
    min: 64,
    max: 1 << 20,
    valueName: 'N',
    help: `sources tracked one by one, past the floor (default ${DEFAULT_SIZES.sources})`,
  },
  {
    name: 'max-ports',
    type: 'int',
    min: 64,
    max: 1 << 18,
    valueName: 'N',
    help: `ports tracked one by one, past the floor (default ${DEFAULT_SIZES.ports})`,
  },
  {
    name: 'floor',
    type: 'int',
    min: 1,
    max: 1e7,
    valueName: 'PACKETS',
    help: `packets in a second before a source or port is tracked one by one (default ${DEFAULT_SIZES.floor})`,
  },
  {
    name: 'sketch-bits',
    type: 'int',
    min: 8,
    max: 20,
    valueName: 'N',
    help: `each count-min sketch row has 2^N cells (default ${DEFAULT_SIZES.sketchBits})`,
  },
  ...LIVE_FLAGS.filter((f) => f.name === 'hooks' || f.name === 'verbose' || f.name === 'help'),
];

export const GUARD_HELP = `wirelens guard: SYN floods, port scans and floods, from kernel counters

Counts what arrives on the watched interfaces in the kernel (TC; per
destination port, per source past a floor, distinct sources), what this host
answers (SYN-ACK, RST, ICMP unreachable), handshakes completed, SYN-ACK
retransmits, resets and drops (tp_btf), and each network namespace's own
counters (TcpExtSyncookiesSent, ListenDrops, ...). Reads them once a second
and prints one line per alert event: start, update (every --update seconds
while it lasts) and end (after --quiet seconds without it).

Alerts: syn_flood (per listening port), port_scan (per remote), source_flood
(one source's SYN/UDP/ICMP/packet rate), udp_flood, icmp_flood,
distributed_flood (far above the moving baseline, many sources, none
dominant). With --block, a source_flood's source is dropped at ingress for
--block-ttl seconds (renewed while it floods; never loopback, this host's
addresses or --allow); every block and unblock is printed, and all are
lifted at exit (a killed guard's TC filter is removed at the next start, and
the kernel program ends each block at its time by itself).

A watched interface down at start is warned about; one that goes down, up
again or away while guard runs is noted once on stderr (with --json also an
"interface" event). On a terminal each line fits its width (the kernel
counters, the namespace, peaks, duration, id and figures give way in that
order, marked …); on a pipe lines are whole.

options:
${flagHelp(GUARD_FLAGS)}

JSON, one object per line: {ts, event: start|update|end, id, kind, traffic,
severity: low|medium|high, started_at, last_seen_at, duration_s, target
{address, port, protocol, netns}, source {address, distinct, top[{address,
pps, share}]}, figures{}, peak{}, thresholds{}, evidence[{counter, delta,
netns}], reason (end: quiet|stopped)}; {ts, event: interface, interface,
ifindex, state: down|up|gone}; with --block also {ts, event: block,
address, until, ttl_s, alert_id, renewed}, {ts, event: unblock, address,
reason: ttl|exit} and {ts, event: not_blocked, address, alert_id, why}.
Exit status 0 when stopped, 2 on a usage error.`;

interface GuardCliOptions {
  ifaces: Iface[];
  json: boolean;
  durationS: number | undefined;
  block: boolean;
  blockTtlS: number;
  allow: Prefix[];
  thresholds: Thresholds;
  sizes: GuardSizes;
  hookMode: HookMode;
  verbose: boolean;
}

function guardOptions(f: Flags): GuardCliOptions {
  const given = [...new Set((f.interface as string[] | undefined) ?? [])];
  const names = given.length > 0 ? given : upIfaces();
  if (names.length > MAX_IFACES)
    throw new UsageError(`-i: at most ${MAX_IFACES} interfaces (got ${names.length}${given.length ? '' : ' up'})`);
  if (names.length === 0) throw new UsageError('no interface is up here; name one with -i');
  const thresholds: Thresholds = { ...DEFAULT_THRESHOLDS };
  for (const t of TUNABLES) if (f[t.flag] !== undefined) (thresholds[t.key] as number) = f[t.flag] as number;
  const allow: Prefix[] = [];
  for (const a of (f.allow as string[] | undefined) ?? []) {
    const p = parsePrefix(a);
    if (!p) throw new UsageError(`--allow needs an address or CIDR prefix like 10.0.0.0/8 or fd00::/8 (got "${a}")`);
    allow.push(p);
  }
  if (f['block-ttl'] !== undefined && f.block !== true) throw new UsageError('--block-ttl goes with --block');
  if (f.allow !== undefined && f.block !== true) throw new UsageError('--allow goes with --block');
  return {
    // One entry per interface, however often it was named.
    ifaces: [...new Map(names.map(resolveIface).map((i) => [i.ifindex, i])).values()],
    json: f.json === true,
    durationS: f.duration as number | undefined,
    block: f.block === true,
    blockTtlS: (f['block-ttl'] as number | undefined) ?? 60,
    allow,
    thresholds,
    sizes: {
      ...DEFAULT_SIZES,
      ...(f['max-sources'] !== undefined ? { sources: f['max-sources'] as number } : {}),
      ...(f['max-ports'] !== undefined ? { ports: f['max-ports'] as number } : {}),
      ...(f.floor !== undefined ? { floor: f.floor as number } : {}),
      ...(f['sketch-bits'] !== undefined ? { sketchBits: f['sketch-bits'] as number } : {}),
    },
    hookMode: (f.hooks as HookMode | undefined) ?? 'auto',
    verbose: f.verbose === true,
  };
}

/** Loopback and every address of this host (this network namespace's interfaces): never blocked. */
export function hostAllowList(): Prefix[] {
  const out = ['127.0.0.0/8', '::1/128', '::ffff:127.0.0.0/104'].map((p) => parsePrefix(p)!);
  for (const addrs of Object.values(os.networkInterfaces()))
    for (const a of addrs ?? []) {
      const p = parsePrefix(a.address.replace(/%.*$/, ''));
      if (p) out.push({ ...p, text: `${p.text} (this host)` });
    }
  return out;
}

/** Seconds per scan bucket: the window is counted over its last five (Zeek's 5 minutes: 60 s buckets). */
const bucketSeconds = (windowS: number): number => Math.max(1, Math.round(windowS / 5));

export async function guardCommand(argv: string[]): Promise<number> {
  const flags = parseLiveArgs(argv, GUARD_FLAGS, GUARD_HELP);
  if (!flags) return 0;
  const o = guardOptions(flags);
  const err = (m: string): void => void process.stderr.write(`wirelens: ${m}\n`);
  const verbose = (m: string): void => {
    if (o.verbose) err(m);
  };
  native().setLibbpfDebug(false);
  let stop: (why: string) => void = () => undefined;
  const unlisten = catchStopSignals((sig) => stop(sig));
  const t0 = performance.now();
  let counters: GuardCounters;
  const bucketS = bucketSeconds(o.thresholds.scanWindowS);
  try {
    preflight(err, verbose);
    for (const line of removeDeadGuardStates()) err(line);
    counters = new GuardCounters({
      ifaces: o.ifaces,
      hookMode: o.hookMode,
      features: new Features(),
      sizes: o.sizes,
      block: o.block,
      bucketS,
    });
  } catch (e) {
    unlisten();
    throw e;
  }

  const clock = new Clock();
  const engine = new GuardEngine(o.thresholds, bucketS, crypto.randomBytes(3).toString('hex'));
  const plan = o.block
    ? new BlockPlan({ ttlS: o.blockTtlS, allow: [...hostAllowList(), ...o.allow], maxBlocks: o.sizes.blocks })
    : undefined;
  let alerts = 0;
  let blocks = 0;
  const print = (line: string): void => writeOut(line + '\n');
  const showEvent = (ev: AlertEvent): void => {
    if (ev.event === 'start') alerts++;
    // On a terminal each line fits its width; on a pipe or in a file it is whole.
    print(o.json ? alertJson(ev, clock) : alertLine(ev, clock, terminalColumns(process.stdout)));
  };
  const apply = (acts: BlockAction[], tNs: number): void => {
    for (const a of acts) {
      try {
        if (a.op === 'block') {
          counters.block(a.ip, BigInt(Math.round(a.untilNs)));
          if (!a.renewed) blocks++;
        } else if (a.op === 'unblock') counters.unblock(a.ip);
      } catch (e) {
        err(`error applying ${a.op} of ${a.address}: ${e instanceof Error ? e.message : String(e)}`);
      }
      print(o.json ? JSON.stringify(blockObject(a, clock, tNs)) : blockLine(a, clock, tNs));
    }
  };
  const publish = (): void => {
    writeGuardState({
      updated: new Date().toISOString(),
      alerts: engine.active().map((a) => alertObject(a, clock)),
      blocks: (plan?.entries() ?? []).map((b) => ({
        address: b.address,
        until: clock.iso(Math.round(b.untilNs)),
        alert_id: b.alertId,
      })),
    });
  };

  // Each watched interface's state as last seen: a change (down, up, gone) is said once, when seen.
  const ifaceStates = new Map<Iface, IfaceState>(o.ifaces.map((i) => [i, 'up']));
  const watchIfaces = (): void => {
    for (const [i, was] of ifaceStates) {
      if (was === 'gone') continue;
      const now = ifaceState(i);
      if (now === was) continue;
      ifaceStates.set(i, now);
      if (was === 'up' && now === 'down' && !attached) err(downAtStartNote(i.name));
      else err(ifaceChangeNote(i.name, now));
      if (o.json) print(ifaceEventJson(i.name, i.ifindex, now, clock, Number(process.hrtime.bigint())));
    }
  };
  let attached = false;

  let mapBytes = 0;
  try {
    reportChoices(counters.choices, err, verbose);
    const mem = counters.mapMemory();
    mapBytes = mem.total;
    const s = o.sizes;
    err(
      `guard: watching ${ifaceNames(o.ifaces.map((i) => i.name))} (${counters.tcKind}); kernel maps hold ${formatBytes(mem.total)}, fixed at start ` +
        `(sources ${s.sources}, ports ${s.ports}, scan entries 2 x ${s.scans} (refused, unanswered), sketches 3 x 4 x 2^${s.sketchBits} cells, floor ${s.floor} packets/s)` +
        (o.block ? `; --block: ${o.blockTtlS} s per block` : ''),
    );
    verbose(`maps: ${mem.maps.map((m) => `${m.name} ${formatBytes(m.bytes)}`).join(', ')}`);
    for (const p of o.allow) if (p.bits === 0) err(allowAllNote(p.text, p.family));
    watchIfaces();
    engine.step(counters.snapshot());
    publish();
    attached = true;
    verbose(`attached in ${(performance.now() - t0).toFixed(1)} ms`);
  } catch (e) {
    counters.close();
    unlisten();
    throw e;
  }

  return new Promise<number>((resolve) => {
    let stopped = false;
    let failed = false;
    const started = performance.now();
    const tick = setInterval(() => {
      try {
        watchIfaces();
        const sample = counters.snapshot();
        for (const ev of engine.step(sample)) showEvent(ev);
        if (plan) apply(plan.step(sample.tNs, engine.active()), sample.tNs);
        const full = sample.tables.filter((t) => t.entries >= 0.9 * t.max);
        for (const t of full)
          verbose(`the ${t.name} table is ${t.entries}/${t.max} full: its least recent entries are being replaced`);
        publish();
      } catch (e) {
        err(`error reading the counters: ${e instanceof Error ? e.message : String(e)}`);
        failed = true;
        stop('error');
      }
    }, 1000);
    const timer =
      o.durationS !== undefined ? setTimeout(() => stop(`${o.durationS}s elapsed`), o.durationS * 1000) : undefined;
    const unsubscribe = onStdoutClosed((why) => stop(why));
    stop = (why: string): void => {
      if (stopped) return;
      stopped = true;
      clearInterval(tick);
      if (timer) clearTimeout(timer);
      unsubscribe();
      unlisten();
      let code = failed ? 1 : 0;
      const now = Number(process.hrtime.bigint());
      try {
        for (const ev of engine.finish(now)) showEvent(ev);
        if (plan) apply(plan.finish(), now);
      } catch (e) {
        err(`error while stopping: ${e instanceof Error ? e.message : String(e)}`);
        code = 1;
      }
      try {
        counters.close();
      } catch (e) {
        err(`error while detaching: ${e instanceof Error ? e.message : String(e)}`);
        code = 1;
      }
      removeGuardState();
      if (o.verbose) {
        try {
          const k = counters.lastStats;
          if (k)
            err(
              `kernel: ${k.SOURCES_ENTERED} sources and ${k.PORTS_ENTERED} ports passed the floor, ${k.SCANS_ENTERED} scan entries, ${k.UNANSWERED} unanswered-SYN entries, ${k.BLOCKED} packets blocked, ${k.NOT_IP} frames not IP`,
            );
        } catch {
          /* figures only */
        }
      }
      const st = `${alerts} alert(s)${o.block ? `, ${blocks} block(s)` : ''}${engine.suppressed ? `, ${engine.suppressed} repeat scan interval(s) suppressed` : ''}`;
      err(
        `guard: stopped (${why}) after ${((performance.now() - started) / 1000).toFixed(1)} s: ${st}; kernel maps held ${formatBytes(mapBytes)}`,
      );
      resolve(code);
    };
  });
}
