/**
 * `npm run bench`: what attaching wirelens costs an nginx serving
 * 127.0.0.1, next to nothing attached and tcpdump, and how fast it starts.
 *
 *   node dist/bench/run.js [--seconds N] [--rounds N] [--quick]
 *
 * Prints results and exits 0 even when a target is missed; exits 1 when the
 * harness itself fails (a tool does not start, wrk fails, ...).
 */
import { kernelSkipReason } from '../test/helpers/skip';
import { parseArgs } from 'node:util';
import { cleanupAll } from './lib/cleanup';
import { measureWorkload, RunResult } from './lib/measure';
import { MODES } from './lib/modes';
import { Nginx, startNginx } from './lib/nginx';
import { clockTicks } from './lib/proc';
import { ModeSummary, startupReport, targetReport, workloadReport } from './lib/report';
import { measureStartup, StartupResult } from './lib/startup';
import { syscallCostReport } from './lib/syscall-cost';
import { Workload, WORKLOADS } from './lib/workloads';
import { topBench } from './lib/top-bench';
import { dnsBench } from './lib/dns-bench';
import { captureBench } from './lib/capture-bench';
import { captureRecordPath, dnsRecordPath, httpRecordPath, tcpRecordPath } from './lib/record-path';
import { captureProgramCost } from './lib/capture-program';
import { guardBench } from './lib/guard-bench';
import { enableBpfStats } from './lib/loopback';

const USAGE = `usage: node dist/bench/run.js [--seconds N] [--rounds N] [--quick]
  --seconds N   length of each wrk run (default 6)
  --rounds N    rounds; each round runs every mode once (default 5)
  --quick       1 round of 3 s runs (explicit --seconds/--rounds still win)
  --only NAME   one part: http (wrk + nginx, start-up, syscall cost), top (iperf3), dns (dnsmasq), capture (iperf3)
                guard (iperf3 and wrk across a veth pair) or records (user space's cost per kernel record,
                from ring batches in the kernel's layout, and capture's TC program by itself, BPF_PROG_TEST_RUN)`;

const STARTUP_RUNS = 5;

interface Options {
  seconds: number;
  rounds: number;
  only: string | undefined;
}

const PARTS = ['http', 'top', 'dns', 'capture', 'guard', 'records'];

function positiveInt(name: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} needs a whole number >= 1, not "${v}"\n${USAGE}`);
  return n;
}

function options(argv: string[]): Options | undefined {
  const { values } = parseArgs({
    args: argv,
    options: {
      seconds: { type: 'string' },
      rounds: { type: 'string' },
      quick: { type: 'boolean' },
      only: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return undefined;
  const quick = values.quick === true;
  if (values.only !== undefined && !PARTS.includes(values.only))
    throw new Error(`--only must be one of ${PARTS.join(', ')}\n${USAGE}`);
  return {
    only: values.only,
    seconds: positiveInt('seconds', values.seconds, quick ? 3 : 6),
    rounds: positiveInt('rounds', values.rounds, quick ? 1 : 5),
  };
}

const log = (line: string): void => void process.stderr.write(`bench: ${line}\n`);
const out = (text: string): void => void process.stdout.write(`${text}\n\n`);

async function bench(o: Options): Promise<void> {
  // The same conditions the kernel tests need: root, a built tree, BTF.
  const cannot = kernelSkipReason();
  if (cannot) throw new Error(cannot);
  clockTicks();
  const want = (part: string): boolean => o.only === undefined || o.only === part;
  if (want('http')) await httpBench(o);
  if (want('top')) out(await topBench(o.seconds, o.rounds, log));
  if (want('capture')) out(await captureBench(o.seconds, o.rounds, log));
  if (want('dns')) out(await dnsBench(o.rounds, log));
  if (want('guard')) out(await guardBench(o.seconds, o.rounds, log));
  if (want('records'))
    out(
      [tcpRecordPath(), dnsRecordPath(), httpRecordPath(), captureRecordPath(), await captureProgramCost()].join(
        '\n\n',
      ),
    );
}

async function httpBench(o: Options): Promise<void> {
  const perRun = MODES.length * WORKLOADS.length * o.rounds;
  log(
    `${perRun} runs of ${o.seconds} s (${o.rounds} round(s) x ${MODES.map((m) => m.name).join(', ')} x ${WORKLOADS.map((w) => w.name).join(', ')}), then ${STARTUP_RUNS} start-up runs`,
  );

  const reports: { workload: Workload; summaries: ModeSummary[] }[] = [];
  let nginx: Nginx | undefined;
  const restoreStats = enableBpfStats();
  try {
    nginx = await startNginx();
    log(`nginx serving ${nginx.url}`);
    for (const workload of WORKLOADS) {
      const runs: RunResult[] = await measureWorkload(
        { url: nginx.url, seconds: o.seconds, rounds: o.rounds, log },
        workload,
        MODES,
      );
      const r = workloadReport(workload, MODES, runs, o.seconds, o.rounds);
      reports.push({ workload, summaries: r.summaries });
      out(r.text);
    }
  } finally {
    restoreStats();
    await nginx?.stop();
  }

  const startup: StartupResult = await measureStartup(STARTUP_RUNS, log);
  out(startupReport(startup));
  out(syscallCostReport());
  out(targetReport(reports, startup));
}

async function main(): Promise<number> {
  let o: Options | undefined;
  try {
    o = options(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  }
  if (!o) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  try {
    await bench(o);
    return 0;
  } catch (e) {
    process.stderr.write(`bench: error: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  } finally {
    cleanupAll();
  }
}

main().then((code) => {
  process.exitCode = code;
});
