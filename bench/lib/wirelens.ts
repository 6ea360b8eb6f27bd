/** Start the built wirelens CLI and read its -v stderr: the attach time and the stop summary. */
import path from 'node:path';
import { repoRoot } from '../../src/kernel/native';
import { Proc } from './proc';

const WIRELENS_BIN = path.join(repoRoot(), 'bin', 'wirelens.js');

const ATTACH_TIMEOUT_MS = 30_000;

export interface Started {
  proc: Proc;
  /** The "attached in X ms" figure: measured inside wirelens. */
  attachedMs: number;
  /** From spawn to that stderr line, as seen by the bench. */
  wallMs: number;
}

/** Spawn `node bin/wirelens.js ARGS -v` (or another script of the same CLI contract; stdout to /dev/null) and wait until it has attached. */
export async function startWirelens(args: string[], script = WIRELENS_BIN): Promise<Started> {
  const name = script === WIRELENS_BIN ? 'wirelens' : path.basename(script, '.js');
  const proc = new Proc(`${name} ${args.join(' ')}`, process.execPath, [script, ...args, '-v'], {
    stdout: 'null',
    cwd: repoRoot(),
  });
  const { match, msSinceSpawn } = await proc.waitForStderr(/attached in ([\d.]+) ms/, ATTACH_TIMEOUT_MS);
  return { proc, attachedMs: Number(match[1]), wallMs: msSinceSpawn };
}

export interface StopSummary {
  records: number;
  lost: number;
  filtered: number;
  /** Records dropped because stdout was too slow (not in the summary when 0). */
  outputDropped: number;
}

/** The records the ring handed over, from -v's "kernel: N emitted, N received" line. */
export function parseReceived(stderr: string): number | undefined {
  const m = /kernel: \d+ emitted, (\d+) received/.exec(stderr);
  return m ? Number(m[1]) : undefined;
}

/** Parse "wirelens: stopped (SIGINT): 9 records, 0 lost, 0 filtered in kernel[, N dropped ...]". */
export function parseStopLine(stderr: string): StopSummary | undefined {
  const m = /stopped \([^)]*\): (\d+) records, (\d+) lost, (\d+) filtered in kernel(.*)/.exec(stderr);
  if (!m) return undefined;
  const dropped = /(\d+) dropped/.exec(m[4]!);
  return {
    records: Number(m[1]),
    lost: Number(m[2]),
    filtered: Number(m[3]),
    outputDropped: dropped ? Number(dropped[1]) : 0,
  };
}
