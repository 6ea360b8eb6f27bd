/**
 * tracefs: libbpf attaches tracepoints through it. Some systems do not mount
 * it at boot; wirelens mounts it at /sys/kernel/tracing when it is missing.
 */
import * as fs from 'node:fs';
import { spawnSync } from 'node:child_process';

export const TRACEFS = '/sys/kernel/tracing';
const DEBUGFS_TRACING = '/sys/kernel/debug/tracing';

export type TracefsState =
  { state: 'mounted'; path: string; mountedNow: boolean } | { state: 'missing'; reason: string };

function hasEvents(dir: string): boolean {
  try {
    return fs.statSync(`${dir}/events`).isDirectory();
  } catch {
    return false;
  }
}

/** Finds tracefs, mounting it at /sys/kernel/tracing if needed (root only). */
export function ensureTracefs(mount = true): TracefsState {
  if (hasEvents(TRACEFS)) return { state: 'mounted', path: TRACEFS, mountedNow: false };
  if (hasEvents(DEBUGFS_TRACING)) return { state: 'mounted', path: DEBUGFS_TRACING, mountedNow: false };
  if (!mount) return { state: 'missing', reason: 'tracefs is not mounted' };
  const r = spawnSync('mount', ['-t', 'tracefs', 'nodev', TRACEFS], { encoding: 'utf8' });
  if (r.status === 0 && hasEvents(TRACEFS)) return { state: 'mounted', path: TRACEFS, mountedNow: true };
  const why = (r.stderr || r.error?.message || `mount exited ${r.status}`).trim();
  return { state: 'missing', reason: `cannot mount tracefs at ${TRACEFS}: ${why}` };
}

export const TRACEFS_REMEDY = `mount it: \`mount -t tracefs nodev ${TRACEFS}\` (needs root and a kernel with CONFIG_TRACING)`;
