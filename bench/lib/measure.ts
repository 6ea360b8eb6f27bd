/** Round-robin measurement: every mode once per round, in order, for each workload. */
import { Mode, ModeMetrics } from './modes';
import { sleep } from './proc';
import { fixed, int } from './table';
import { Workload, WRK_CONNECTIONS, WRK_THREADS } from './workloads';
import { runWrk, WrkResult } from './wrk';

export interface RunResult {
  workload: Workload;
  mode: Mode;
  round: number;
  wrk: WrkResult;
  metrics: ModeMetrics;
  /** The mode's expected record count for this run's traffic, if it has one. */
  expectedRecords: number | undefined;
}

export interface MeasureOptions {
  url: string;
  seconds: number;
  rounds: number;
  log: (line: string) => void;
}

const SETTLE_MS = 500;
const WARMUP_S = 1;

async function runOnce(
  o: MeasureOptions,
  workload: Workload,
  mode: Mode,
  seconds: number,
): Promise<{ wrk: WrkResult; metrics: ModeMetrics }> {
  const attached = await mode.attach();
  let wrk: WrkResult;
  try {
    wrk = await runWrk({
      url: o.url,
      seconds,
      threads: WRK_THREADS,
      connections: WRK_CONNECTIONS,
      headers: workload.headers,
    });
  } catch (e) {
    await attached.stop().catch(() => undefined);
    throw e;
  }
  return { wrk, metrics: await attached.stop() };
}

function describeRun(r: RunResult): string {
  const parts = [`${int(r.wrk.requestsPerSec)} req/s`, `${int(r.wrk.requests)} requests`];
  if (r.wrk.latencyP50Ms !== undefined)
    parts.push(`p50 ${fixed(r.wrk.latencyP50Ms, 2)} ms, p99 ${fixed(r.wrk.latencyP99Ms, 2)} ms`);
  if (r.wrk.errors) parts.push(`wrk errors: ${r.wrk.errorDetail}`);
  const m = r.metrics;
  if (m.records !== undefined)
    parts.push(
      `${int(m.records)} records${r.expectedRecords !== undefined ? ` (expected ~${int(r.expectedRecords)})` : ''}`,
    );
  if (m.lost !== undefined) parts.push(`${m.lost} lost`);
  if (m.cpuPercent !== undefined) parts.push(`CPU ${fixed(m.cpuPercent)}%`);
  if (m.drops !== undefined) parts.push(`${int(m.drops)} dropped`);
  if (m.note) parts.push(m.note);
  return parts.join(', ');
}

export async function measureWorkload(o: MeasureOptions, workload: Workload, modes: Mode[]): Promise<RunResult[]> {
  // Warm nginx, the page cache and the socket paths up before the first counted run.
  await runOnce(o, workload, modes[0]!, WARMUP_S);
  const results: RunResult[] = [];
  for (let round = 1; round <= o.rounds; round++) {
    for (const mode of modes) {
      await sleep(SETTLE_MS);
      const { wrk, metrics } = await runOnce(o, workload, mode, o.seconds);
      const connections = workload.connections(wrk);
      const r: RunResult = {
        workload,
        mode,
        round,
        wrk,
        metrics,
        expectedRecords: mode.expectedRecords?.({ connections, requests: wrk.requests }),
      };
      results.push(r);
      o.log(`[${workload.name} ${round}/${o.rounds}] ${mode.name}: ${describeRun(r)}`);
    }
  }
  return results;
}
