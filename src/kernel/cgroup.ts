/**
 * Where the cgroup v2 hierarchy is mounted: its root is where wirelens
 * attaches the programs that see every socket on the host. When this mount
 * namespace has none (`ip netns exec` remounts /sys, hiding it), wirelens
 * mounts cgroup2 at /run/wirelens/cgroup2 itself: the same hierarchy.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
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

/** A cgroup v2 directory as the kernel knows it: its id (= the directory's inode number) and depth. */
export interface CgroupTarget {
  /** The directory, resolved (symbolic links followed). */
  path: string;
  id: bigint;
  /** Depth under the hierarchy's root (the root is 0), for bpf_skb_ancestor_cgroup_id. */
  level: number;
}

/** Mount points of cgroup2 and the hierarchy directory each shows (mountinfo's root field). */
function cgroup2Mounts(): { at: string; root: string }[] {
  let info = '';
  try {
    info = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  const out: { at: string; root: string }[] = [];
  for (const line of info.split('\n')) {
    const [pre, post] = line.split(' - ');
    if (!pre || !post || post.split(' ')[0] !== 'cgroup2') continue;
    const f = pre.split(' ');
    if (f.length >= 5) out.push({ root: unescape(f[3]!), at: unescape(f[4]!) });
  }
  return out;
}

const CGROUP_REMEDY =
  'give a cgroup v2 directory, absolute or relative to the cgroup2 mount (a process\'s is the "0::" line of /proc/PID/cgroup)';

/**
 * --cgroup PATH: an absolute directory in a cgroup2 mount, or one relative
 * to the cgroup2 mount (cgroup2Root()). A one-line WL_ERR_USAGE when it is
 * not one.
 */
export function resolveCgroup(arg: string): CgroupTarget {
  const full = path.isAbsolute(arg) ? arg : path.join(cgroup2Root(), arg);
  let real: string;
  let st: fs.BigIntStats;
  try {
    real = fs.realpathSync(full);
    st = fs.statSync(real, { bigint: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new WlError('WL_ERR_USAGE', `--cgroup ${arg}: no such cgroup (${full}: ${code})`, {
      remedy: CGROUP_REMEDY,
    });
  }
  const inside = (m: { at: string }) => real === m.at || real.startsWith(m.at.endsWith('/') ? m.at : m.at + '/');
  const mount = cgroup2Mounts()
    .filter(inside)
    .sort((a, b) => b.at.length - a.at.length)[0];
  if (!mount || !st.isDirectory()) {
    throw new WlError('WL_ERR_USAGE', `--cgroup ${arg}: ${real} is not a directory of the cgroup v2 hierarchy`, {
      remedy: CGROUP_REMEDY,
    });
  }
  const rel = path.relative(mount.at, real);
  const level = [...mount.root.split('/'), ...rel.split('/')].filter((x) => x !== '').length;
  return { path: real, id: st.ino, level };
}
