/**
 * The configurations measured against each other. A mode attaches a tool
 * before wrk runs and stops it afterwards, reporting what it saw. Adding a
 * tool is one more entry in MODES.
 */
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { BpfUse, bpfMeter, startEmptyProgram } from './loopback';
import { cpuSeconds, describeExit, Proc } from './proc';
import { StopSummary, parseReceived, parseStopLine, startWirelens } from './wirelens';
import { repoRoot } from '../../src/kernel/native';

/** What a mode measured during one wrk run; absent fields do not apply. */
export interface ModeMetrics {
  /** CPU the tool's own process used while wrk ran, in % of one core. */
  cpuPercent?: number;
  records?: number;
  lost?: number;
  /** Packets the kernel dropped before the capture tool read them. */
  drops?: number;
  /** Run time of the mode's BPF programs (kernel.bpf_stats_enabled). */
  bpf?: BpfUse;
  /** This mode is the empty program whose ns per run is the timing floor. */
  floor?: boolean;
  /** Free text for the per-run log. */
  note?: string;
}

export interface Attached {
  /** Called once wrk has finished: stop the tool and collect its figures. */
  stop(): Promise<ModeMetrics>;
}

/** What wrk did in one run, for a mode's expected record count. */
export interface Traffic {
  connections: number;
  requests: number;
}

export interface Mode {
  name: string;
  /** Start the tool; resolve once it is ready to see traffic. */
  attach(): Promise<Attached>;
  /** Records the tool should print for this traffic, if that is predictable. */
  expectedRecords?(t: Traffic): number;
  /** Its cost target in % of req/s (the tool's issue sets it); the wirelens targets (cost, lost events) apply when set. */
  targetCostPercent?: number | undefined;
  /** Its target is also to cost less than tcpdump in the same run (issue 13, the http records mode). */
  belowTcpdump?: boolean;
}

const STOP_TIMEOUT_MS = 15_000;

const none: Mode = {
  name: 'none',
  attach: async () => ({ stop: async () => ({}) }),
};

/** CPU % of one core a process uses from now until the returned function is called. */
function cpuMeter(pid: number): () => number {
  const cpu0 = cpuSeconds(pid);
  const t0 = performance.now();
  return () => {
    const cpu = cpuSeconds(pid) - cpu0;
    const wall = (performance.now() - t0) / 1000;
    return wall > 0 ? (100 * cpu) / wall : NaN;
  };
}

async function stopOrThrow(proc: Proc): Promise<void> {
  const exit = await proc.stop('SIGINT', STOP_TIMEOUT_MS);
  if (exit.killed || exit.code !== 0)
    throw new Error(`${proc.name} did not stop cleanly on SIGINT (${describeExit(exit)})${proc.tail()}`);
}

/**
 * Starts `node SCRIPT ARGS --json -v` (stdout to /dev/null) and, once wrk is
 * done, stops it with SIGINT and reads its stop line; `records` picks the
 * record count from its stderr and stop line.
 */
async function attachCli(
  args: string[],
  script: string | undefined,
  records: (stderr: string, s: StopSummary) => number,
): Promise<Attached> {
  const { proc } = await startWirelens([...args, '--json'], script);
  const cpu = cpuMeter(proc.pid);
  const bpfUse = bpfMeter(proc.pid);
  return {
    stop: async () => {
      const cpuPercent = cpu();
      const bpf = bpfUse();
      await stopOrThrow(proc);
      const s = parseStopLine(proc.stderr);
      if (!s) throw new Error(`${proc.name}: no "stopped (...): N records, N lost" line on stderr${proc.tail()}`);
      const note = [`${s.filtered} filtered in kernel`];
      if (s.outputDropped) note.push(`${s.outputDropped} dropped (output too slow)`);
      return { cpuPercent, records: records(proc.stderr, s), lost: s.lost, bpf, note: note.join(', ') };
    },
  };
}

/** `node bin/wirelens.js SUBCOMMAND... --json -v`, stdout to /dev/null, stopped with SIGINT. */
export function wirelensMode(
  name: string,
  args: string[],
  expectedRecords?: (t: Traffic) => number,
  targetCostPercent?: number,
): Mode {
  return {
    name,
    expectedRecords,
    targetCostPercent,
    attach: () => attachCli(args, undefined, (_stderr, s) => s.records),
  };
}

/**
 * `wirelens http`'s kernel side alone (bench/http-kernel-side.ts): its
 * programs, ring and record decode, nothing after. Its cost is the floor
 * under the records mode, whatever user space does with each record.
 */
const httpKernelSide: Mode = {
  name: 'http kernel side only',
  expectedRecords: (t) => 2 * t.requests,
  attach: () =>
    attachCli([], path.join(repoRoot(), 'dist', 'bench', 'http-kernel-side.js'), (stderr) => {
      const n = parseReceived(stderr);
      if (n === undefined) throw new Error('http kernel side: no "kernel: N emitted, N received" line on stderr');
      return n;
    }),
};

/** The tcpdump mode's name, which the targets compare with. */
export const TCPDUMP = 'tcpdump';

/** `tcpdump -i lo -w /dev/null`: the classic way to watch the same traffic. */
const tcpdump: Mode = {
  name: TCPDUMP,
  attach: async () => {
    const proc = new Proc('tcpdump', 'tcpdump', ['-i', 'lo', '-w', '/dev/null'], { stdout: 'null' });
    await proc.waitForStderr(/listening on/, 10_000);
    const cpu = cpuMeter(proc.pid);
    return {
      stop: async () => {
        const cpuPercent = cpu();
        await stopOrThrow(proc);
        const drops = /(\d+) packets? dropped by kernel/.exec(proc.stderr);
        const captured = /(\d+) packets? captured/.exec(proc.stderr);
        if (!drops) throw new Error(`tcpdump: no "N packets dropped by kernel" line on stderr${proc.tail()}`);
        return {
          drops: Number(drops[1]),
          note: `${captured ? captured[1] : '?'} packets captured, tcpdump CPU ${cpuPercent.toFixed(1)}%`,
        };
      },
    };
  },
};

/** An empty cgroup_skb program: the run-time floor of timing each run (subtracted from the others' BPF CPU). */
const emptyProgram: Mode = {
  name: 'empty BPF program',
  attach: async () => {
    const empty = startEmptyProgram();
    return {
      stop: async () => {
        const bpf = empty.stop();
        return {
          bpf,
          floor: true,
          note: `${bpf.runs ? (bpf.ns / bpf.runs).toFixed(0) : '-'} ns/run: the timing floor`,
        };
      },
    };
  },
};

export const MODES: Mode[] = [
  none,
  emptyProgram,
  // One open and one close record for each end of a connection; on loopback both ends are on this host.
  wirelensMode('wirelens tcp', ['tcp'], (t) => 4 * t.connections, 2),
  // One record per request at each end: curl-like client (wrk) and nginx.
  { ...wirelensMode('wirelens http', ['http'], (t) => 2 * t.requests, 5), belowTcpdump: true },
  // The floor under it: the same kernel work and ring, each record decoded and dropped.
  httpKernelSide,
  // Counted in the kernel: one table at exit, nothing per exchange.
  wirelensMode('wirelens http --stats-only', ['http', '--stats-only'], () => 1, 5),
  tcpdump,
];
