/**
 * Where the cgroup v2 hierarchy is mounted: its root is where wirelens
 * attaches the programs that see every socket on the host.
 */
import * as fs from 'node:fs';
import { WlError } from '../errors';

export const CGROUP2_REMEDY =
  'mount the cgroup v2 hierarchy (`mount -t cgroup2 none /sys/fs/cgroup`), as systemd does on current distributions';

let root: string | undefined;

/** The first cgroup2 mount in /proc/self/mounts; throws WL_ERR_NO_HOOK when there is none. */
export function cgroup2Root(): string {
  if (root) return root;
  let mounts = '';
  try {
    mounts = fs.readFileSync('/proc/self/mounts', 'utf8');
  } catch {
    /* reported below */
  }
  const m = /^\S+ (\S+) cgroup2 /m.exec(mounts);
  if (!m) throw new WlError('WL_ERR_NO_HOOK', 'no cgroup v2 hierarchy is mounted', { remedy: CGROUP2_REMEDY });
  root = m[1]!.replace(/\\040/g, ' ');
  return root;
}
