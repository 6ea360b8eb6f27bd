/**
 * What the loopback benches share: a saturating iperf3 transfer, clean
 * stops of the tools under test, and the CPU time BPF programs spend
 * (kernel.bpf_stats_enabled), turned on for the run and restored after.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { clockTicks, describeExit, Proc } from './proc';
import { progIdsHeldBy } from '../../src/kernel/leftovers';
import { BpfObject } from '../../src/kernel/object';
import { native } from '../../src/kernel/native';
import { cgroup2Root } from '../../src/kernel/cgroup';

export async function stopped(p: Proc): Promise<void> {
  const exit = await p.stop('SIGINT', 15_000);
  if (exit.killed || exit.code !== 0)
    throw new Error(`${p.name} did not stop cleanly (${describeExit(exit)})${p.tail()}`);
}

export /** Run time (ns) and runs of the BPF programs process `pid` holds (or the program ids given), from bpftool. */
function bpfRunTime(pid: number, ids?: number[]): { ns: number; runs: number } {
  const mine = new Set(ids ?? progIdsHeldBy(pid));
  const progs = JSON.parse(execFileSync('bpftool', ['prog', 'show', '-j'], { encoding: 'utf8' })) as {
    id: number;
    run_time_ns?: number;
    run_cnt?: number;
  }[];
  let ns = 0;
  let runs = 0;
  for (const p of progs) {
    if (!mine.has(p.id)) continue;
    ns += p.run_time_ns ?? 0;
    runs += p.run_cnt ?? 0;
  }
  return { ns, runs };
}

/** BPF run time of one run: programs' ns and runs, over wallS seconds. */
export interface BpfUse {
  ns: number;
  runs: number;
  wallS: number;
}

/** Counts the BPF run time of `pid`'s programs (or of the ids given) from now until the returned function is called. */
export function bpfMeter(pid: number, ids?: number[]): () => BpfUse {
  const before = bpfRunTime(pid, ids);
  const t0 = performance.now();
  return () => {
    const used = bpfRunTime(pid, ids);
    return { ns: used.ns - before.ns, runs: used.runs - before.runs, wallS: (performance.now() - t0) / 1000 };
  };
}

/**
 * An empty cgroup_skb program on the root cgroup: what timing every run
 * costs under kernel.bpf_stats_enabled (plus the dispatch). A bench
 * subtracts its ns per run from wirelens's programs' figures.
 */
export function startEmptyProgram(): { stop(): BpfUse } {
  const obj = BpfObject.open('features');
  obj.setAutoload('wl_probe_cgroup', true);
  obj.load();
  obj.attach('wl_probe_cgroup', { kind: 'cgroup', path: cgroup2Root() });
  const id = native()
    .listPrograms()
    .filter((p) => p.name === 'wl_probe_cgroup')
    .map((p) => p.id);
  const meter = bpfMeter(0, id);
  return {
    stop: () => {
      const use = meter();
      obj.close();
      return use;
    },
  };
}

/** The share of `cpus` CPUs' time programs took, less `floorNs` per run (the timing floor), in %. */
export function bpfShare(u: BpfUse, floorNs: number, cpus: number): number {
  return (100 * Math.max(0, u.ns - u.runs * floorNs)) / 1e9 / (u.wallS * cpus);
}

const STATS = '/proc/sys/kernel/bpf_stats_enabled';

/** Turns on BPF run-time statistics; returns the function that restores the setting. */
export function enableBpfStats(): () => void {
  let was: string | undefined;
  try {
    was = fs.readFileSync(STATS, 'utf8').trim();
    fs.writeFileSync(STATS, '1');
  } catch {
    /* no run-time figures then */
  }
  return () => {
    if (was !== undefined) fs.writeFileSync(STATS, was);
  };
}

/** Runs an iperf3 client against the loopback server with `extra` arguments; returns its JSON report. */
async function iperf3Client(port: number, seconds: number, extra: string[]): Promise<unknown> {
  // Client and server each on their own CPU: less scheduler noise.
  const p = new Proc(
    'iperf3 client',
    'iperf3',
    [
      '-c',
      '127.0.0.1',
      '-p',
      String(port),
      ...extra,
      '-t',
      String(seconds),
      '-J',
      ...(os.cpus().length > 1 ? ['-A', '0,1'] : []),
    ],
    {},
  );
  const exit = await p.done;
  if (exit.code !== 0) throw new Error(`iperf3 ${extra.join(' ')} failed (${describeExit(exit)})${p.tail()}`);
  return JSON.parse(p.stdout);
}

export /** Runs iperf3 for `seconds` against the server; returns received bits/s. */
async function transfer(port: number, seconds: number): Promise<number> {
  const j = (await iperf3Client(port, seconds, [])) as { end?: { sum_received?: { bits_per_second?: number } } };
  const bps = j.end?.sum_received?.bits_per_second;
  if (!bps) throw new Error('iperf3: no received rate in its JSON');
  return bps;
}

export /** CPU time the whole machine spent busy so far (user, system, irq, softirq; not idle or stolen), seconds. */
function machineBusySeconds(): number {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq] = f;
  return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0)) / clockTicks();
}

export interface PacedRun {
  /** Datagrams sent, and read back by the sender's own socket. */
  packets: number;
  received: number;
  /** The sender's CPU seconds (user + system): on loopback the whole path, taps and BPF programs included. */
  cpuS: number;
}

let pacer: string | undefined;

/** Builds bench/native/udp-pace.c (once per run) and returns the binary's path. */
function pacerPath(): string {
  if (pacer) return pacer;
  const src = path.join(__dirname, '..', '..', '..', 'bench', 'native', 'udp-pace.c');
  const out = path.join(__dirname, '..', '..', '..', 'build', 'bench', 'udp-pace');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  execFileSync('clang', ['-O2', '-Wall', '-Werror', '-o', out, src], { stdio: 'inherit' });
  return (pacer = out);
}

export /**
 * A fixed-rate UDP run (bench/native/udp-pace.c): `count` datagrams of
 * `length` bytes at `rate` a second, sent and read back by one process,
 * pinned to the last CPU. Its CPU time is the kernel's whole work per
 * packet, and varies little from run to run (unlike iperf3's paced loop).
 */
async function pacedUdp(count: number, length: number, rate: number): Promise<PacedRun> {
  const cpus = os.cpus().length;
  const args = [String(count), String(length), String(rate)];
  const p =
    cpus > 1
      ? new Proc('udp-pace', 'taskset', ['-c', String(cpus - 1), pacerPath(), ...args], { stdout: 'pipe' })
      : new Proc('udp-pace', pacerPath(), args, { stdout: 'pipe' });
  const exit = await p.done;
  if (exit.code !== 0) throw new Error(`udp-pace failed (${describeExit(exit)})${p.tail()}`);
  const j = JSON.parse(p.stdout) as { sent: number; received: number; user: number; system: number };
  return { packets: j.sent, received: j.received, cpuS: j.user + j.system };
}
