/**
 * `npm run bench -- --only capture`: what capturing a saturating loopback
 * transfer (iperf3, one TCP stream) costs, side by side in one run, modes
 * alternating within each round: nothing attached, `tcpdump -i lo -w
 * /dev/null`, `wirelens capture -i lo -w /dev/null` (TC) and `wirelens
 * capture -w /dev/null` (the socket hook: every packet of every local socket,
 * so each loopback packet twice, leaving and arriving). Three settings:
 * snaplen 96 with no expression, full snaplen with no expression, and full
 * snaplen with an expression that matches none of the transfer (`udp port
 * 53`), where wirelens drops in the kernel what tcpdump's filter drops in
 * the kernel too. Per mode: throughput, packets captured and dropped, the
 * tool's own CPU time (user + system) and, for wirelens, its BPF programs'
 * run time (kernel.bpf_stats_enabled).
 *
 * The tool's own CPU leaves out what tcpdump makes the kernel do for it (the
 * copy into its ring runs in the sender's context), so a fourth setting
 * offers the same packets to every mode — a fixed-rate UDP transfer, no
 * segmentation offload, one datagram one packet, sent and read back by one
 * small process (bench/native/udp-pace.c) — and takes the sender's CPU time
 * (on loopback the receive path, taps and BPF programs included, runs in its
 * context, and is counted in its CPU time on kernels without
 * CONFIG_IRQ_TIME_ACCOUNTING) and the tool's, per packet: over nothing attached, each tool's
 * full cost, kernel side included. Both are per-process times, so other load
 * on the machine disturbs them far less than a whole-machine figure would
 * (on this VM, /proc/stat's busy time moved by seconds between identical
 * runs).
 */
import * as os from 'node:os';
import { freePort } from '../../test/helpers/ports';
import { Proc, cpuSeconds } from './proc';
import { median } from './stats';
import { fixed, formatTable } from './table';
import { startWirelens } from './wirelens';
import { bpfRunTime, enableBpfStats, pacedUdp, stopped, transfer } from './loopback';
import type { PacedRun } from './loopback';
import { captureRecordPath } from './record-path';
import { captureProgramCost } from './capture-program';

interface Outcome {
  captured?: number;
  dropped?: number;
  cpuS: number;
  bpfNs?: number;
  wallS: number;
}

interface Started {
  /** The tool's CPU seconds since start; what stop() reports counts from here on. */
  mark(): number;
  stop(): Promise<Outcome>;
}

interface Mode {
  name: string;
  start(snaplen: number, expr: string[]): Promise<Started>;
}

/** CPU and wall time of a process from a point on, moved by mark(). */
function cpuFrom(pid: number): { mark(): number; since(): { cpuS: number; wallS: number } } {
  let cpu0 = cpuSeconds(pid);
  let t0 = performance.now();
  const first = cpu0;
  return {
    mark: () => {
      cpu0 = cpuSeconds(pid);
      t0 = performance.now();
      return cpu0 - first;
    },
    since: () => ({ cpuS: cpuSeconds(pid) - cpu0, wallS: (performance.now() - t0) / 1000 }),
  };
}

/** tcpdump's (and wirelens capture's) exit summary. */
function summaryCounts(stderr: string): { captured?: number; dropped?: number } {
  const c = /(\d+) packets? captured/.exec(stderr);
  const d = /(\d+) packets? dropped by kernel/.exec(stderr);
  return { ...(c ? { captured: Number(c[1]) } : {}), ...(d ? { dropped: Number(d[1]) } : {}) };
}

function wirelensMode(name: string, extra: string[]): Mode {
  return {
    name,
    start: async (snaplen, expr) => {
      const { proc } = await startWirelens(['capture', ...extra, '-s', String(snaplen), '-w', '/dev/null', ...expr]);
      let bpf0 = bpfRunTime(proc.pid);
      const cpu = cpuFrom(proc.pid);
      return {
        mark: () => {
          bpf0 = bpfRunTime(proc.pid);
          return cpu.mark();
        },
        stop: async () => {
          const bpf = bpfRunTime(proc.pid);
          const { cpuS, wallS } = cpu.since();
          await stopped(proc);
          return { ...summaryCounts(proc.stderr), cpuS, bpfNs: bpf.ns - bpf0.ns, wallS };
        },
      };
    },
  };
}

const MODES: Mode[] = [
  {
    name: 'none',
    start: async () => {
      let t0 = performance.now();
      return {
        mark: () => {
          t0 = performance.now();
          return 0;
        },
        stop: async () => ({ cpuS: 0, wallS: (performance.now() - t0) / 1000 }),
      };
    },
  },
  {
    name: 'tcpdump -i lo',
    start: async (snaplen, expr) => {
      const p = new Proc('tcpdump', 'tcpdump', ['-i', 'lo', '-s', String(snaplen), '-w', '/dev/null', ...expr], {
        stdout: 'null',
      });
      await p.waitForStderr(/listening on/, 10_000);
      const cpu = cpuFrom(p.pid);
      return {
        mark: () => cpu.mark(),
        stop: async () => {
          const { cpuS, wallS } = cpu.since();
          await stopped(p);
          return { ...summaryCounts(p.stderr), cpuS, wallS };
        },
      };
    },
  },
  wirelensMode('wirelens capture -i lo', ['-i', 'lo']),
  wirelensMode('wirelens capture (sockets)', []),
];

/** Seconds of fixed-rate traffic before the measured run: the tool's CPU in them is shown apart. */
const WARMUP_S = 3;

/**
 * Fixed-rate UDP: 1000-byte datagrams, 100,000 a second, measured in runs of
 * 2 s (5 runs, 10 s in all, after the warm-up).
 */
const UDP = { rate: 100_000, length: 1000, runs: 5, runSeconds: 2 };

const SETTINGS: { name: string; snaplen: number; expr: string[] }[] = [
  { name: 'snaplen 96, every packet', snaplen: 96, expr: [] },
  { name: 'snaplen 262144, every packet', snaplen: 262144, expr: [] },
  { name: "snaplen 262144, 'udp port 53' (matches none of the transfer)", snaplen: 262144, expr: ['udp port 53'] },
];

export async function captureBench(seconds: number, rounds: number, log: (l: string) => void): Promise<string> {
  const port = await freePort();
  const server = new Proc('iperf3 server', 'iperf3', ['-s', '-B', '127.0.0.1', '-p', String(port)], { stdout: 'pipe' });
  const key = (s: string, m: string) => `${s}|${m}`;
  const results = new Map<string, { bps: number; o: Outcome }[]>();
  const none: number[] = [];
  const udp = new Map<string, { senderNs: number; packets: number; lost: number; o: Outcome; startS: number }[]>();
  const restoreStats = enableBpfStats();
  try {
    await new Promise((r) => setTimeout(r, 300));
    for (let round = 1; round <= rounds; round++) {
      for (const setting of SETTINGS) {
        for (const mode of MODES) {
          if (mode.name === 'none' && setting !== SETTINGS[0]) continue; // once per round is enough
          const att = await mode.start(setting.snaplen, setting.expr);
          let bps: number;
          let o: Outcome;
          try {
            bps = await transfer(port, seconds);
          } finally {
            o = await att.stop();
          }
          if (mode.name === 'none') none.push(bps);
          else
            results.set(key(setting.name, mode.name), [
              ...(results.get(key(setting.name, mode.name)) ?? []),
              { bps, o },
            ]);
          log(`capture round ${round}/${rounds} ${setting.name} ${mode.name}: ${(bps / 1e9).toFixed(2)} Gbit/s`);
        }
      }
    }
    // The same packets for every mode: the sender's and the tool's CPU per packet.
    for (let round = 1; round <= rounds; round++) {
      for (const mode of MODES) {
        const att = await mode.start(96, []);
        const runs: PacedRun[] = [];
        let startS: number;
        let o: Outcome;
        try {
          // The first seconds (start-up work, code compiled as packets come) are reported on their own.
          await pacedUdp(UDP.rate * WARMUP_S, UDP.length, UDP.rate);
          startS = att.mark();
          for (let i = 0; i < UDP.runs; i++) runs.push(await pacedUdp(UDP.rate * UDP.runSeconds, UDP.length, UDP.rate));
        } finally {
          o = await att.stop();
        }
        const packets = runs.reduce((n, r) => n + r.packets, 0);
        // The sender's CPU per packet: the median of its runs (a noisy neighbour on the host lifts one run, not all).
        const senderNs = median(runs.map((r) => (r.cpuS * 1e9) / r.packets))!;
        const lost = runs.reduce((n, r) => n + r.packets - r.received, 0);
        udp.set(mode.name, [...(udp.get(mode.name) ?? []), { senderNs, packets, lost, o, startS }]);
        log(
          `capture round ${round}/${rounds} fixed-rate UDP ${mode.name}: ${packets} packets (${lost} not read back), sender ${runs.map((r) => ((r.cpuS * 1e9) / r.packets).toFixed(0)).join(' ')} ns/packet`,
        );
      }
    }
  } finally {
    await server.stop('SIGTERM', 5000);
    restoreStats();
  }
  const base = median(none)!;
  const cpus = Math.min(2, os.cpus().length);
  const out: string[] = [
    `wirelens capture vs tcpdump on a saturating loopback transfer (iperf3, 1 stream, ${seconds} s x ${rounds} rounds, modes alternating); nothing attached: ${(base / 1e9).toFixed(2)} Gbit/s (median)`,
  ];
  for (const setting of SETTINGS) {
    const rows = MODES.filter((m) => m.name !== 'none').map((m) => {
      const rs = results.get(key(setting.name, m.name)) ?? [];
      const bps = median(rs.map((r) => r.bps))!;
      const share = (v: (o: Outcome) => number | undefined) =>
        median(rs.map((r) => (v(r.o) === undefined ? undefined : (100 * v(r.o)!) / (r.o.wallS * cpus))));
      const cpu = share((o) => o.cpuS);
      const bpf = share((o) => (o.bpfNs === undefined ? undefined : o.bpfNs / 1e9));
      return [
        m.name,
        fixed(bps / 1e9, 2),
        fixed((100 * (base - bps)) / base, 1, '%'),
        fixed(median(rs.map((r) => r.o.captured)), 0),
        fixed(median(rs.map((r) => r.o.dropped)), 0),
        fixed(cpu, 1, '%'),
        bpf === undefined ? '-' : fixed(bpf, 2, '%'),
      ];
    });
    out.push(
      '',
      setting.name,
      formatTable(['mode', 'Gbit/s', 'cost', 'captured', 'dropped', 'tool CPU', 'BPF CPU'], rows, [
        'left',
        'right',
        'right',
        'right',
        'right',
        'right',
        'right',
      ]),
    );
  }
  out.push(
    '',
    `(medians over rounds; CPU as a share of ${cpus} CPUs; tcpdump's kernel copy runs in the sender's context and is in no column but the cost; the socket hook sees each loopback packet twice)`,
  );
  const per = (rs: { packets: number }[], v: (r: never) => number | undefined): number | undefined =>
    median(
      rs.map((r) => {
        const x = v(r as never);
        return x === undefined ? undefined : (x * 1e9) / r.packets;
      }),
    );
  const noneRuns = udp.get('none') ?? [];
  const noneSender = median(noneRuns.map((r) => r.senderNs))!;
  const udpRows = MODES.filter((m) => m.name !== 'none').map((m) => {
    const rs = udp.get(m.name) ?? [];
    // Paired: each round's run against that round's run with nothing attached (a slow round moves both).
    const sender = median(rs.map((r, i) => r.senderNs - (noneRuns[i]?.senderNs ?? NaN)))!;
    const tool = per(rs, (r: { o: Outcome }) => r.o.cpuS)!;
    return [
      m.name,
      fixed(median(rs.map((r) => r.packets)), 0),
      fixed(median(rs.map((r) => r.o.captured)), 0),
      fixed(median(rs.map((r) => r.o.dropped)), 0),
      fixed(sender, 0),
      fixed(
        per(rs, (r: { o: Outcome }) => (r.o.bpfNs === undefined ? undefined : r.o.bpfNs / 1e9)),
        0,
      ),
      fixed(tool, 0),
      fixed(sender + tool, 0),
      fixed(median(rs.map((r) => r.startS * 1000)), 0),
    ];
  });
  out.push(
    '',
    `fixed-rate UDP (bench/native/udp-pace.c: ${UDP.rate} datagrams/s of ${UDP.length} bytes, ${UDP.runs} runs of ${UDP.runSeconds} s, snaplen 96), after ${WARMUP_S} s of the same traffic: CPU ns per datagram: the sender's over nothing attached in the same round (nothing attached: ${fixed(noneSender, 0)} ns; each figure the median of its runs, then of the rounds; it reads its datagrams back itself, so the whole loopback path runs in its context: the kernel's work for a tap or BPF program too, counted in its CPU time where the kernel has no CONFIG_IRQ_TIME_ACCOUNTING, as here), the tool's own, their sum; last, the tool's CPU from its start to the end of the first ${WARMUP_S} s (start-up work, code compiled as packets come; "captured" counts their packets too)`,
    formatTable(
      ['mode', 'sent', 'captured', 'dropped', 'sender +', 'of it BPF', 'tool', 'total', 'first 3 s, ms'],
      udpRows,
    ),
  );
  out.push('', captureRecordPath(), '', await captureProgramCost());
  return out.join('\n');
}
