/** Turn run results into the per-workload tables and the target check. */
import { RunResult } from './measure';
import { Mode, TCPDUMP } from './modes';
import { StartupResult } from './startup';
import { median, sum } from './stats';
import { fixed, formatTable, int } from './table';
import { Workload, WRK_CONNECTIONS, WRK_THREADS } from './workloads';
import { bpfShare } from './loopback';

/** CPUs the BPF CPU share is counted against (the machine's, at most 2: wrk and nginx share them). */
const BPF_CPUS = 2;

export const TARGETS = {
  maxLost: 0,
  maxStartToAttachedMs: 300,
};

export interface ModeSummary {
  mode: Mode;
  rps: number | undefined;
  /** Median req/s relative to `none`, in %. */
  ratioPercent: number | undefined;
  costPercent: number | undefined;
  lost: number | undefined;
}

export interface WorkloadReport {
  text: string;
  summaries: ModeSummary[];
}

const pct = (n: number | undefined): string => fixed(n, 1, '%');

export function workloadReport(
  workload: Workload,
  modes: Mode[],
  runs: RunResult[],
  seconds: number,
  rounds: number,
): WorkloadReport {
  const of = (m: Mode): RunResult[] => runs.filter((r) => r.mode === m && r.workload === workload);
  const summaries: ModeSummary[] = [];
  const rows: string[][] = [];
  const checks: string[] = [];
  const hasExpected = modes.some((m) => m.expectedRecords);
  // Each run is compared with the baseline run of the same round, then the
  // median is taken: slow drift of the machine cancels out.
  const base = new Map(of(modes[0]!).map((r) => [r.round, r.wrk.requestsPerSec]));
  // The empty program's ns per run: what timing costs every run (kernel.bpf_stats_enabled).
  const floorNs =
    median(
      runs
        .filter((r) => r.workload === workload && r.metrics.floor)
        .map((r) => (r.metrics.bpf?.runs ? r.metrics.bpf.ns / r.metrics.bpf.runs : undefined)),
    ) ?? 0;
  for (const mode of modes) {
    const rs = of(mode);
    const rps = median(rs.map((r) => r.wrk.requestsPerSec));
    const isBase = mode === modes[0];
    const paired = rs.map((r) => {
      const b = base.get(r.round);
      return b ? (100 * r.wrk.requestsPerSec) / b : undefined;
    });
    const ratio = isBase ? 100 : median(paired);
    const cost = isBase || ratio === undefined ? undefined : 100 - ratio;
    const lost = sum(rs.map((r) => r.metrics.lost));
    summaries.push({ mode, rps, ratioPercent: ratio, costPercent: cost, lost });
    const records = median(rs.map((r) => r.metrics.records));
    const expected = median(rs.map((r) => r.expectedRecords));
    const row = [
      mode.name,
      int(rps),
      pct(ratio),
      isBase ? '-' : fixed(cost, 1),
      pct(median(rs.map((r) => r.metrics.cpuPercent))),
      pct(
        median(
          rs.map((r) => (r.metrics.bpf && !r.metrics.floor ? bpfShare(r.metrics.bpf, floorNs, BPF_CPUS) : undefined)),
        ),
      ),
      int(records),
    ];
    if (hasExpected) row.push(expected === undefined ? '-' : `~${int(expected)}`);
    row.push(int(lost), int(sum(rs.map((r) => r.metrics.drops))), int(sum(rs.map((r) => r.wrk.errors))));
    rows.push(row);
    if (mode.expectedRecords && rs.length > 0) {
      const perRun = rs.map((r) => `${int(r.metrics.records)}/${int(r.expectedRecords)}`);
      const ratios = rs.map((r) =>
        r.metrics.records !== undefined && r.expectedRecords
          ? (100 * r.metrics.records) / r.expectedRecords
          : undefined,
      );
      checks.push(`${mode.name} records / expected per run: ${perRun.join(', ')} (median ${pct(median(ratios))})`);
    }
  }
  const header = ['mode', 'req/s (median)', 'vs none (paired)', 'cost %', 'wirelens CPU %', 'BPF CPU %', 'records'];
  if (hasExpected) header.push('expected');
  header.push('lost', 'tcpdump drops', 'wrk errors');
  const conns =
    workload.name === 'keep-alive'
      ? `${WRK_CONNECTIONS} connections for the whole run`
      : 'a new connection per request (Connection: close)';
  const text = [
    `== ${workload.name}: wrk -t${WRK_THREADS} -c${WRK_CONNECTIONS} -d${seconds}s --latency${workload.headers.map((h) => ` -H "${h}"`).join('')}; ${conns}`,
    `   ${rounds} round(s), modes alternated; req/s, CPU, records and expected are medians per run; lost, drops and errors are totals`,
    `   vs none = median over rounds of (req/s of the mode / req/s of none in the same round)`,
    `   wirelens CPU % = its process, % of one core; BPF CPU % = its programs' run time, % of ${BPF_CPUS} CPUs, less the empty program's ${floorNs.toFixed(0)} ns/run timing floor`,
    '',
    formatTable(header, rows),
    '',
    ...checks,
    ...(hasExpected
      ? [
          'expected, wirelens tcp: 4 records per connection wrk made (open + close at the client end and at the server end, both on this host);',
          `  connections still open when wrk stops add up to 4 x ${WRK_CONNECTIONS} more`,
          'expected, wirelens http: 2 records per request wrk made (the exchange seen by wrk and by nginx);',
          '  --stats-only: 1 (the table at exit), nothing per exchange',
        ]
      : []),
  ].join('\n');
  return { text, summaries };
}

const mark = (ok: boolean): string => (ok ? 'PASS' : 'MISS');

export function targetReport(
  byWorkload: { workload: Workload; summaries: ModeSummary[] }[],
  startup: StartupResult | undefined,
): string {
  const rows: string[][] = [];
  const lostByMode = new Map<string, number>();
  for (const { workload, summaries } of byWorkload) {
    for (const s of summaries.filter((x) => x.mode.targetCostPercent !== undefined)) {
      const cost = s.costPercent;
      const target = s.mode.targetCostPercent!;
      rows.push([
        `${s.mode.name} cost (req/s), ${workload.name}`,
        `< ${target}%`,
        pct(cost),
        cost === undefined ? 'n/a' : mark(cost < target),
      ]);
      lostByMode.set(s.mode.name, (lostByMode.get(s.mode.name) ?? 0) + (s.lost ?? 0));
    }
    const tcpdump = summaries.find((x) => x.mode.name === TCPDUMP)?.costPercent;
    for (const s of summaries.filter((x) => x.mode.belowTcpdump)) {
      const cost = s.costPercent;
      rows.push([
        `${s.mode.name} cost below tcpdump's, ${workload.name}`,
        `< ${pct(tcpdump)}`,
        pct(cost),
        cost === undefined || tcpdump === undefined ? 'n/a' : mark(cost < tcpdump),
      ]);
    }
  }
  for (const [name, lost] of lostByMode) {
    rows.push([`${name} lost events, all runs`, `${TARGETS.maxLost}`, int(lost), mark(lost <= TARGETS.maxLost)]);
  }
  if (startup) {
    rows.push([
      'start to attached (spawn to "attached in", median)',
      `< ${TARGETS.maxStartToAttachedMs} ms`,
      `${fixed(startup.medianWallMs)} ms`,
      mark(startup.medianWallMs < TARGETS.maxStartToAttachedMs),
    ]);
  }
  return [
    '== targets',
    '',
    formatTable(['target', 'goal', 'result', 'status'], rows, ['left', 'right', 'right', 'left']),
  ].join('\n');
}

export function startupReport(s: StartupResult): string {
  const runs = s.wallMs.map((w, i) => `${fixed(w)}/${fixed(s.attachedMs[i])}`).join(', ');
  return [
    `== start to attached: node bin/wirelens.js tcp -v --duration 0.3, ${s.wallMs.length} runs`,
    '',
    formatTable(
      ['measure', 'median'],
      [
        ['spawn to "attached in" line on stderr (wall)', `${fixed(s.medianWallMs)} ms`],
        ['"attached in X ms" (inside wirelens)', `${fixed(s.medianAttachedMs)} ms`],
      ],
    ),
    '',
    `per run, wall/in-process ms: ${runs}`,
  ].join('\n');
}
