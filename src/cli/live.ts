/**
 * The contract every live command shares: preflight, start, print records
 * (human lines or --json), stop on -c / --duration / Ctrl-C / SIGTERM /
 * closed stdout, drain what the kernel already wrote, detach, and print a
 * summary (records, lost, filtered in the kernel) to stderr.
 */
import { Features } from '../kernel/features';
import { HookChoice, describeChoice, unhookedWarning } from '../kernel/hooks';
import { native } from '../kernel/native';
import { KernelStats, RunningFamily } from '../probes/family';
import { Clock, monoNowNs } from '../output/clock';
import { LineBatch } from '../output/line-batch';
import { onStdoutClosed, stdoutBacklog, writeOut } from '../output/stdout';
import { LiveOptions } from './common-flags';
import { preflight } from './preflight';
import { catchStopSignals } from './signals';

export interface LiveTool<R> {
  name: string;
  start(opts: LiveOptions, features: Features, emit: (r: R) => void, onBad: () => void): RunningFamily;
  header(): string;
  human(r: R, clock: Clock): string;
  /** One JSON object, as text without the newline. */
  json(r: R, clock: Clock): string;
  /** Extra summary lines (e.g. per-endpoint stats) for stderr. */
  summary?(): string[];
  /** Called every TICK_MS while running (flush what went idle). */
  tick?(nowNs: number, emit: (r: R) => void): void;
  /** Called once at stop, after the kernel's records are drained. */
  finish?(emit: (r: R) => void): void;
  /** Lines printed to stderr every --stats interval, when asked. */
  periodic?(): string[];
  /**
   * A record within -c N (printed, or dropped for a slow reader): the summary
   * counts these, so with -c it tells of the records shown, not of those after.
   */
  counted?(r: R): void;
}

const TICK_MS = 250;

/** Each hook choice for --verbose, and a warning for every slot left unhooked. */
export function reportChoices(choices: HookChoice[], err: (m: string) => void, verbose: (m: string) => void): void {
  for (const c of choices) {
    verbose(`hook ${describeChoice(c)}`);
    if (c.kind === 'none') err(`warning: ${unhookedWarning(c)}`);
  }
}

/** Output waiting to be written above this: records are dropped and counted. */
const MAX_PENDING_OUTPUT = 64 << 20;

export async function runLive<R>(tool: LiveTool<R>, opts: LiveOptions): Promise<number> {
  const err = (m: string): void => void process.stderr.write(`wirelens: ${m}\n`);
  const verbose = (m: string): void => {
    if (opts.verbose) err(m);
  };
  const t0 = performance.now();
  // Signals are ours from the start, so one that arrives while attaching
  // does not kill the process without its summary. Start-up is synchronous:
  // the handler runs only once `stop` below is in place.
  let stop: (why: string) => void = () => undefined;
  const unlisten = catchStopSignals((sig) => stop(sig));
  native().setLibbpfDebug(false);

  const clock = new Clock();
  let printed = 0;
  let outputDropped = 0;
  let bad = 0;
  let stopping = false;
  const pending = new LineBatch(writeOut);
  let flushQueued = false;

  const flush = (): void => {
    flushQueued = false;
    pending.flush();
  };
  const emit = (r: R): void => {
    if (opts.count !== undefined && printed >= opts.count) return;
    tool.counted?.(r);
    if (stdoutBacklog() > MAX_PENDING_OUTPUT) {
      outputDropped++;
      return;
    }
    pending.push(opts.json ? tool.json(r, clock) + '\n' : tool.human(r, clock) + '\n');
    printed++;
    if (pending.size > 0 && !flushQueued) {
      flushQueued = true;
      queueMicrotask(flush);
    }
    if (opts.count !== undefined && printed >= opts.count) stop(`${opts.count} records`);
  };

  const features = new Features();
  let running: RunningFamily;
  try {
    preflight(err, verbose);
    running = tool.start(opts, features, emit, () => bad++);
  } catch (e) {
    unlisten();
    throw e;
  }
  const attachedMs = performance.now() - t0;
  reportChoices(running.choices, err, verbose);
  verbose(
    `attached in ${attachedMs.toFixed(1)} ms (features from ${features.fromCache.size > 0 ? 'cache' : 'probes'})`,
  );
  const header = opts.json ? '' : tool.header();
  if (header) writeOut(header + '\n');

  const ticker = tool.tick ? setInterval(() => tool.tick!(monoNowNs(), emit), TICK_MS) : undefined;
  ticker?.unref();
  const periodic =
    opts.statsS !== undefined && tool.periodic
      ? setInterval(() => {
          for (const line of tool.periodic!()) err(line);
        }, opts.statsS * 1000)
      : undefined;
  periodic?.unref();

  let lastLost = 0n;
  const watch = setInterval(() => {
    const s = running.kernelStats();
    if (s.lost > lastLost) {
      err(`warning: ${s.lost - lastLost} records lost in the kernel (ring buffer full); total ${s.lost}`);
      lastLost = s.lost;
    }
  }, 1000);
  watch.unref();

  return new Promise<number>((resolve) => {
    let durationTimer: NodeJS.Timeout | undefined;
    let unsubscribe = (): void => undefined;
    stop = (why: string): void => {
      if (stopping) return;
      stopping = true;
      setImmediate(() => {
        if (durationTimer) clearTimeout(durationTimer);
        clearInterval(watch);
        if (ticker) clearInterval(ticker);
        if (periodic) clearInterval(periodic);
        unlisten();
        unsubscribe();
        let stats: KernelStats | undefined;
        try {
          // Detach first: whatever the kernel wrote until then is drained and counted.
          running.detach();
          running.drain();
          stats = running.kernelStats();
          tool.finish?.(emit);
        } catch (e) {
          err(`error while stopping: ${e instanceof Error ? e.message : String(e)}`);
        } finally {
          running.close();
        }
        flush();
        const parts = [
          `${printed} records`,
          `${stats ? stats.lost : '?'} lost`,
          `${stats ? stats.filtered : '?'} filtered in kernel`,
        ];
        if (outputDropped) parts.push(`${outputDropped} dropped (output too slow)`);
        if (bad) parts.push(`${bad} undecodable`);
        if (running.handlerErrors) parts.push(`${running.handlerErrors} failed to format`);
        err(`stopped (${why}): ${parts.join(', ')}`);
        if (opts.verbose && stats) {
          err(`kernel: ${stats.emitted} emitted, ${stats.received} received, ${stats.tableFull} table inserts refused`);
        }
        for (const line of tool.summary?.() ?? []) err(line);
        resolve(stats ? 0 : 70);
      });
    };
    unsubscribe = onStdoutClosed((why) => stop(why));
    if (opts.durationS !== undefined)
      durationTimer = setTimeout(() => stop(`${opts.durationS}s elapsed`), opts.durationS * 1000);
  });
}
