/** Start-to-attached: how long `wirelens tcp` takes from spawn until its hooks are live. */
import { describeExit } from './proc';
import { median } from './stats';
import { startWirelens } from './wirelens';

export interface StartupResult {
  /** The "attached in X ms" values wirelens prints (time inside the process). */
  attachedMs: number[];
  /** Spawn to that stderr line, seen from outside (includes node start-up). */
  wallMs: number[];
  medianAttachedMs: number;
  medianWallMs: number;
}

export async function measureStartup(runs: number, log: (line: string) => void): Promise<StartupResult> {
  const attachedMs: number[] = [];
  const wallMs: number[] = [];
  for (let i = 1; i <= runs; i++) {
    const { proc, attachedMs: inside, wallMs: wall } = await startWirelens(['tcp', '--duration', '0.3']);
    const exit = await proc.waitExit(15_000);
    if (exit.code !== 0) throw new Error(`${proc.name} failed (${describeExit(exit)})${proc.tail()}`);
    attachedMs.push(inside);
    wallMs.push(wall);
    log(`[start ${i}/${runs}] attached in ${inside.toFixed(1)} ms (in process), ${wall.toFixed(1)} ms from spawn`);
  }
  return { attachedMs, wallMs, medianAttachedMs: median(attachedMs)!, medianWallMs: median(wallMs)! };
}
