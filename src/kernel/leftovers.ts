/**
 * Finding what a dead wirelens left in the kernel. Programs attached through
 * bpf_link or perf events die with the process; a wl_ program that no process
 * holds an fd to is held by something that outlives processes (a pin, a
 * classic TC filter) and is a leftover. Pins live under /sys/fs/bpf/wirelens.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { native } from './native';

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
  let pids: string[] = [];
  try {
    pids = fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return { ids, complete: false };
  }
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

/** wl_ programs no process holds: leftovers of a killed wirelens (or pinned ones). */
export function orphanPrograms(): LoadedProgram[] {
  const progs = wirelensPrograms();
  if (progs.length === 0) return [];
  const held = scanHeldPrograms().ids;
  return progs.filter((p) => !held.has(p.id));
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
