/**
 * What a running `wirelens guard` publishes in /run/wirelens/guard/<pid>.json
 * (rewritten atomically every interval): its active alerts and its blocks,
 * for `wirelens top` to show, and for the next guard to name the blocks a
 * killed one left (its classic TC filter, which did the dropping, is removed
 * by the TC leftovers cleanup; a tcx link died with it).
 */
import * as fs from 'node:fs';
import { netnsInode } from './netns';

const DIR = '/run/wirelens/guard';

export interface GuardState {
  pid: number;
  netns: number;
  /** ISO time of the last write. */
  updated: string;
  alerts: Record<string, unknown>[];
  blocks: { address: string; until: string; alert_id: string }[];
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function writeGuardState(st: Omit<GuardState, 'pid' | 'netns'>): void {
  const file = `${DIR}/${process.pid}.json`;
  try {
    fs.mkdirSync(DIR, { recursive: true, mode: 0o755 });
    const tmp = `${file}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify({ pid: process.pid, netns: netnsInode(), ...st }));
    fs.renameSync(tmp, file);
  } catch {
    /* read-only /run: top just shows no alerts */
  }
}

export function removeGuardState(): void {
  fs.rmSync(`${DIR}/${process.pid}.json`, { force: true });
}

function readAll(): GuardState[] {
  let files: string[];
  try {
    files = fs.readdirSync(DIR).filter((f) => /^\d+\.json$/.test(f));
  } catch {
    return [];
  }
  const out: GuardState[] = [];
  for (const f of files) {
    try {
      const v = JSON.parse(fs.readFileSync(`${DIR}/${f}`, 'utf8')) as GuardState;
      if (typeof v?.pid === 'number' && Array.isArray(v.alerts) && Array.isArray(v.blocks)) out.push(v);
    } catch {
      /* being replaced: the next read has it */
    }
  }
  return out;
}

/** The states of guards that are running now. */
export function runningGuards(): GuardState[] {
  return readAll().filter((s) => s.pid !== process.pid && alive(s.pid));
}

/** Removes the records of guards that died without cleaning up; one line per block they held. */
export function removeDeadGuardStates(): string[] {
  const said: string[] = [];
  const here = netnsInode();
  for (const s of readAll()) {
    if (alive(s.pid) || s.netns !== here) continue; // another namespace's guard cleans its own
    for (const b of s.blocks)
      said.push(
        `the block of ${b.address} by an earlier guard (pid ${s.pid}, killed) ended with it (its TC program is gone)`,
      );
    fs.rmSync(`${DIR}/${s.pid}.json`, { force: true });
  }
  return said;
}
