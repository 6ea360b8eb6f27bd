/**
 * Network namespaces: this one's inode, the `ip netns` names of others
 * (/run/netns bind mounts), and a path to enter each one that has a process
 * or a name.
 */
import * as fs from 'node:fs';
import { listPids } from './procfs';

export function netnsInode(): number {
  try {
    return fs.statSync('/proc/self/ns/net').ino;
  } catch {
    return 0;
  }
}

/** `ip netns` names by namespace inode (/run/netns bind mounts). */
export function netnsNames(): Map<number, string> {
  const out = new Map<number, string>();
  let names: string[] = [];
  try {
    names = fs.readdirSync('/run/netns');
  } catch {
    return out;
  }
  for (const n of names) {
    try {
      out.set(fs.statSync(`/run/netns/${n}`).ino, n);
    } catch {
      /* not a namespace mount */
    }
  }
  return out;
}

export function processInNetns(ino: number): number | undefined {
  const pids = listPids();
  if (pids === undefined) return undefined;
  for (const p of pids) {
    try {
      if (fs.statSync(`/proc/${p}/ns/net`).ino === ino) return Number(p);
    } catch {
      /* exited, or not ours to read */
    }
  }
  return undefined;
}

/** One path per network namespace other than this one: /run/netns/NAME, else /proc/PID/ns/net of a process in it. */
export function otherNetnsPaths(): string[] {
  const here = netnsInode();
  const seen = new Set<number>([here]);
  const out: string[] = [];
  for (const [ino, name] of netnsNames()) {
    if (seen.has(ino)) continue;
    seen.add(ino);
    out.push(`/run/netns/${name}`);
  }
  const pids = listPids();
  if (pids === undefined) return out;
  for (const p of pids) {
    try {
      const ino = fs.statSync(`/proc/${p}/ns/net`).ino;
      if (seen.has(ino)) continue;
      seen.add(ino);
      out.push(`/proc/${p}/ns/net`);
    } catch {
      /* exited, or a kernel thread */
    }
  }
  return out;
}
