/**
 * Where the cgroup v2 hierarchy is mounted: its root is where wirelens
 * attaches the programs that see every socket on the host. When this mount
 * namespace has none (`ip netns exec` remounts /sys, hiding it), wirelens
 * mounts cgroup2 at /run/wirelens/cgroup2 itself: the same hierarchy.
 */
import * as fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { WlError } from '../errors';

export const CGROUP2_REMEDY =
  'mount the cgroup v2 hierarchy (`mount -t cgroup2 none /sys/fs/cgroup`), as systemd does on current distributions';

const OWN_MOUNT = '/run/wirelens/cgroup2';

let root: string | undefined;

function findMount(): string | undefined {
  let mounts = '';
  try {
    mounts = fs.readFileSync('/proc/self/mounts', 'utf8');
  } catch {
    return undefined;
  }
  const m = /^\S+ (\S+) cgroup2 /m.exec(mounts);
  return m ? m[1]!.replace(/\\040/g, ' ') : undefined;
}

/** The cgroup2 mount (made if missing); throws WL_ERR_NO_HOOK when there is none and none can be made. */
export function cgroup2Root(): string {
  if (root) return root;
  root = findMount();
  if (root) return root;
  let why = '';
  try {
    fs.mkdirSync(OWN_MOUNT, { recursive: true });
    const r = spawnSync('mount', ['-t', 'cgroup2', 'none', OWN_MOUNT], { encoding: 'utf8' });
    if (r.status === 0) return (root = OWN_MOUNT);
    why = (r.stderr || r.error?.message || '').trim();
  } catch (e) {
    why = (e as Error).message;
  }
  throw new WlError(
    'WL_ERR_NO_HOOK',
    `no cgroup v2 hierarchy is mounted, and mounting one failed${why ? ` (${why})` : ''}`,
    {
      remedy: CGROUP2_REMEDY,
    },
  );
}
