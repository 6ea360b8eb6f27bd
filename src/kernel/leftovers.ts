/**
 * Finding what a dead wirelens left in the kernel. Programs attached through
 * bpf_link or perf events die with the process; a wl_ program that no process
 * holds an fd to is held by something that outlives processes (a pin, a
 * classic TC filter) and is a leftover. Pins live under /sys/fs/bpf/wirelens.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { native } from './native';
import { listPids } from './procfs';

export const PIN_DIR = '/sys/fs/bpf/wirelens';
export const PROG_PREFIX = 'wl_';

/** Program ids in the fds of process `pid`; null when its fds cannot be read (ENOENT: it exited, so none). */
function readHeld(pid: number | string): number[] | null {
  let fds: string[];
  try {
    fds = fs.readdirSync(`/proc/${pid}/fdinfo`);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? [] : null;
  }
  const ids: number[] = [];
  for (const fd of fds) {
    try {
      const m = /^prog_id:\s*(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'));
      if (m) ids.push(Number(m[1]));
    } catch {
      /* closed meanwhile */
    }
  }
  return ids;
}

/** Program ids process `pid` holds an fd of (prog or link fds); empty when unreadable. */
export function progIdsHeldBy(pid: number | string): number[] {
  return readHeld(pid) ?? [];
}

/**
 * Program ids some process holds an fd of. complete is false when some
 * process's fds could not be read (another user's, another pid namespace):
 * then "held by nobody" cannot be told from "held by someone we cannot see".
 */
export function scanHeldPrograms(): { ids: Set<number>; complete: boolean } {
  const ids = new Set<number>();
  const pids = listPids();
  if (pids === undefined) return { ids, complete: false };
  let complete = true;
  for (const pid of pids) {
    const held = readHeld(pid);
    if (held === null) complete = false;
    else for (const id of held) ids.add(id);
  }
  return { ids, complete };
}

export interface LoadedProgram {
  id: number;
  name: string;
  type: string;
}

export function wirelensPrograms(): LoadedProgram[] {
  return native()
    .listPrograms()
    .filter((p) => p.name.startsWith(PROG_PREFIX));
}

/**
 * wl_ programs no process holds: leftovers of a killed wirelens (or pinned
 * ones). `freeing`: ids this process just let go of (filters it removed, its
 * own objects it closed); the kernel frees a program after an RCU grace
 * period, so they are waited for (up to `waitMs`) rather than reported.
 */
export function orphanPrograms(freeing: ReadonlySet<number> = new Set(), waitMs = 2000): LoadedProgram[] {
  const deadline = performance.now() + waitMs;
  for (;;) {
    const progs = wirelensPrograms();
    if (progs.length === 0) return [];
    const held = scanHeldPrograms().ids;
    const orphans = progs.filter((p) => !held.has(p.id));
    if (!orphans.some((o) => freeing.has(o.id)) || performance.now() >= deadline) return orphans;
    sleepSync(20);
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Removes wirelens pins; returns what was removed, for the caller to say so. */
export function removePins(): string[] {
  const removed: string[] = [];
  let entries: string[];
  try {
    entries = fs.readdirSync(PIN_DIR);
  } catch {
    return removed;
  }
  for (const e of entries) {
    const p = path.join(PIN_DIR, e);
    try {
      fs.rmSync(p, { recursive: true, force: true });
      removed.push(p);
    } catch {
      /* reported by orphanPrograms() if it stays */
    }
  }
  return removed;
}
