/**
 * Hook slots of bpf/include/sk_owner.bpf.h, for every object that names a
 * socket's process from socket storage (traffic, dns, tls): the socket()
 * hook on the root cgroup, and the read/write hooks that move a socket to
 * the process using it.
 */
import * as fs from 'node:fs';
import { WL_COMM_LEN } from '../events/layout';
import { AttachTarget, native } from '../kernel/native';
import { HookSlot } from '../kernel/hooks';
import { BpfMap } from '../kernel/maps';
import { listPids } from '../kernel/procfs';

/** struct sk_owner (bpf/include/sk_owner.bpf.h): tgid, uid, comm[WL_COMM_LEN]. */
const WL_OWNER_SIZE = 8 + WL_COMM_LEN;

export function ownerSlots(cgroup: AttachTarget): HookSlot[] {
  return [
    {
      slot: 'socket owners at socket()',
      required: false,
      degraded: "packets of sockets made before start are someone's only once a process reads or writes them",
      candidates: [{ kind: 'cgroup', programs: ['wl_owner_create'], target: cgroup }],
    },
    {
      slot: 'socket owners at read/write',
      required: false,
      degraded: 'a socket stays with the process that made it (or its listener), even when another process uses it',
      candidates: [
        { kind: 'tp_btf', programs: ['wl_owner_send', 'wl_owner_recv'] },
        { kind: 'fentry', programs: ['wl_owner_send_fentry', 'wl_owner_recv_fentry'] },
      ],
    },
  ];
}

/** What naming the owners of sockets made before start did. */
export interface ExistingOwners {
  /** Sockets given their process. */
  owned: number;
  /** Processes whose fds could not be had (gone, or not ours to take). */
  refused: number;
  ms: number;
  /** Stopped at the socket or time bound. */
  cut: boolean;
}

const MAX_SOCKETS = 65536;
const MAX_MS = 3000;

function procComm(pid: string): string {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').replace(/\n$/, '');
  } catch {
    return '';
  }
}

function procUid(pid: string): number {
  try {
    return Number(/^Uid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/**
 * Sockets made before the socket() hook was attached have no owner in
 * socket storage, so the connections a listener made before start accepts
 * (they inherit its storage) would count for no process. Every process's
 * socket fds (/proc/PID/fd) are taken (pidfd_getfd) and their IPv4/IPv6
 * sockets given that process in `owners` (the wl_owners map), unless they
 * have one already. A socket several processes share goes to the first seen
 * (the lowest pid: a server's parent); read/write hooks move it later.
 */
export function ownExistingSockets(owners: BpfMap): ExistingOwners {
  const t0 = performance.now();
  const nat = native();
  const seen = new Set<string>();
  const out: ExistingOwners = { owned: 0, refused: 0, ms: 0, cut: false };
  if (owners.info.valueSize !== WL_OWNER_SIZE) return out; // not the layout this writes
  const pids = listPids();
  if (pids === undefined) return out;
  const self = String(process.pid);
  for (const pid of pids) {
    if (pid === self) continue;
    if (seen.size >= MAX_SOCKETS || performance.now() - t0 > MAX_MS) {
      out.cut = true;
      break;
    }
    let fds: string[];
    try {
      fds = fs.readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // exited, or a kernel thread
    }
    const mine: [number, string][] = [];
    for (const fd of fds) {
      let target: string;
      try {
        target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      if (!target.startsWith('socket:[') || seen.has(target)) continue;
      seen.add(target);
      mine.push([Number(fd), target]);
    }
    if (mine.length === 0) continue;
    const pidfd = nat.pidfdOpen(Number(pid));
    if (pidfd < 0) {
      out.refused++;
      continue;
    }
    try {
      const v = Buffer.alloc(WL_OWNER_SIZE);
      v.writeUInt32LE(Number(pid), 0);
      v.writeUInt32LE(procUid(pid), 4);
      v.write(procComm(pid).slice(0, WL_COMM_LEN - 1), 8, 'utf8');
      for (const [fd] of mine) {
        const r = nat.ownSocket(owners.fd, pidfd, fd, v);
        if (r === 1) out.owned++;
        else if (r < 0 && r !== -9 /* EBADF: closed meanwhile */) {
          out.refused++;
          break;
        }
      }
    } finally {
      fs.closeSync(pidfd);
    }
  }
  out.ms = Math.round(performance.now() - t0);
  return out;
}
