/**
 * TC programs on network interfaces, and what they leave behind. tcx links
 * (Linux 6.6+) die with the process. Classic TC filters (a clsact qdisc and
 * bpf filters, libbpf bpf_tc_*) outlive it: wirelens detaches its filters
 * at exit, removes the clsact qdisc only if it created it and nothing else
 * uses it, and records what it added in /run/wirelens/tc/<pid>.json so a
 * later start can clean up after a SIGKILL (and say so).
 */
import * as fs from 'node:fs';
import { WlError, wrapNative } from '../errors';
import { scanHeldPrograms, wirelensPrograms } from './leftovers';
import { netnsInode, netnsNames, processInNetns } from './netns';
import { NativeLink, native } from './native';
import { BpfObject } from './object';

export interface Iface {
  name: string;
  ifindex: number;
  /** Bytes of link-layer header before the IP header. */
  l2Len: number;
  /** ARPHRD_ type (/sys/class/net/NAME/type): 1 Ethernet, 772 loopback, 65534 none (tun), ... */
  haType?: number;
}

const STATE_DIR = '/run/wirelens/tc';

/** What one wirelens process added with classic TC, in STATE_DIR/<pid>.json (each process writes only its own). */
interface TcState {
  pid: number;
  netns: number;
  filters: { ifindex: number; ifname: string; ingress: boolean; handle: number; priority: number; progId: number }[];
  /** clsact qdiscs it created: removed once no filter uses them. */
  qdiscs: { ifindex: number; ifname: string }[];
}

const ARPHRD_ETHER = 1;
const ARPHRD_LOOPBACK = 772;

/** Looks up an interface of this network namespace; a clear usage error when there is none. */
export function resolveIface(name: string): Iface {
  const base = `/sys/class/net/${name}`;
  if (name.includes('/') || name === '.' || name === '..' || !fs.existsSync(`${base}/ifindex`)) {
    const known = listIfaces().join(', ');
    throw new WlError('WL_ERR_USAGE', `-i "${name}": no such network interface in this network namespace`, {
      remedy: `choose one of: ${known || '(none found)'} (\`ip link\` lists them; for another namespace run wirelens with \`ip netns exec NS\`)`,
    });
  }
  const ifindex = Number(fs.readFileSync(`${base}/ifindex`, 'utf8').trim());
  const type = Number(fs.readFileSync(`${base}/type`, 'utf8').trim());
  return { name, ifindex, l2Len: type === ARPHRD_ETHER || type === ARPHRD_LOOPBACK ? 14 : 0, haType: type };
}

export function listIfaces(): string[] {
  try {
    return fs.readdirSync('/sys/class/net').sort();
  } catch {
    return [];
  }
}

/** The interfaces of this network namespace that are up (IFF_UP). */
export function upIfaces(): string[] {
  return listIfaces().filter((n) => {
    try {
      return (Number.parseInt(fs.readFileSync(`/sys/class/net/${n}/flags`, 'utf8'), 16) & 1) === 1;
    } catch {
      return false;
    }
  });
}

/** Whether `iface` is still there (same name, same ifindex) and up: read from /sys each call. */
export function ifaceState(iface: Iface): 'up' | 'down' | 'gone' {
  const base = `/sys/class/net/${iface.name}`;
  try {
    if (Number(fs.readFileSync(`${base}/ifindex`, 'utf8').trim()) !== iface.ifindex) return 'gone';
    return (Number.parseInt(fs.readFileSync(`${base}/flags`, 'utf8'), 16) & 1) === 1 ? 'up' : 'down';
  } catch {
    return 'gone';
  }
}

function statePath(pid: number): string {
  return `${STATE_DIR}/${pid}.json`;
}

function readStates(): TcState[] {
  let files: string[] = [];
  try {
    files = fs.readdirSync(STATE_DIR).filter((f) => /^\d+\.json$/.test(f));
  } catch {
    return [];
  }
  const out: TcState[] = [];
  for (const f of files) {
    try {
      const v = JSON.parse(fs.readFileSync(`${STATE_DIR}/${f}`, 'utf8')) as TcState;
      if (typeof v?.pid === 'number' && Array.isArray(v.filters) && Array.isArray(v.qdiscs)) out.push(v);
    } catch {
      /* half-written by a process killed meanwhile: the filter scan below still finds its filters */
    }
  }
  return out;
}

/** Writes (or, when it holds nothing, removes) one process's record; atomic per file. */
function writeState(st: TcState): void {
  try {
    if (st.filters.length === 0 && st.qdiscs.length === 0) {
      fs.rmSync(statePath(st.pid), { force: true });
      return;
    }
    fs.mkdirSync(STATE_DIR, { recursive: true });
    const tmp = `${statePath(st.pid)}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(st));
    fs.renameSync(tmp, statePath(st.pid));
  } catch {
    /* without the record, a later start still finds unheld wl_ filters; only a qdisc would stay */
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function filterCount(ifindex: number): number {
  return native().tcFilters(ifindex, true).length + native().tcFilters(ifindex, false).length;
}

const side = (ingress: boolean): string => (ingress ? 'ingress' : 'egress');

/** Removes a clsact qdisc if no filter (anyone's) is on it. */
function removeIfUnused(ifindex: number): boolean {
  try {
    return filterCount(ifindex) === 0 && native().tcRemoveClsact(ifindex);
  } catch {
    return false; // the interface went away
  }
}

/**
 * Removes what a dead wirelens left on this namespace's interfaces, and
 * returns one line per removal. First what dead processes recorded: their
 * filters (when the same program still runs there) and the clsact qdiscs
 * they created, once nothing uses them. Then, for records that were lost,
 * bpf filters running a wl_ program no process holds, only when every
 * process's fds could be read (else a live wirelens could be mistaken).
 * The program ids of removed filters are added to `freed`: the kernel frees
 * them a moment later (after an RCU grace period), not at once.
 */
export function removeTcLeftovers(freed: Set<number> = new Set()): string[] {
  const said: string[] = [];
  const nat = native();
  const here = netnsInode();
  for (const st of readStates()) {
    if (st.netns !== here || alive(st.pid)) continue;
    for (const f of st.filters) {
      try {
        const now = nat.tcFilters(f.ifindex, f.ingress).find((x) => x.handle === f.handle && x.priority === f.priority);
        if (now && now.progId === f.progId && nat.tcDetach(f.ifindex, f.ingress, f.handle, f.priority)) {
          freed.add(f.progId);
          said.push(
            `removed TC filter ${now.name.replace(/:.*$/, '')} on ${f.ifname} ${side(f.ingress)} left by an earlier wirelens (pid ${st.pid})`,
          );
        }
      } catch {
        /* the interface went away */
      }
    }
    const keep = st.qdiscs.filter((q) => {
      if (!fs.existsSync(`/sys/class/net/${q.ifname}`)) return false;
      if (removeIfUnused(q.ifindex)) {
        said.push(`removed the clsact qdisc an earlier wirelens added to ${q.ifname}`);
        return false;
      }
      return true; // someone else's filters are on it now: later
    });
    writeState({ ...st, filters: [], qdiscs: keep });
  }
  const progs = new Map(wirelensPrograms().map((p) => [p.id, p.name]));
  if (progs.size === 0) return said;
  let held: { ids: Set<number>; complete: boolean } | undefined;
  for (const name of listIfaces()) {
    let ifindex: number;
    try {
      ifindex = Number(fs.readFileSync(`/sys/class/net/${name}/ifindex`, 'utf8'));
    } catch {
      continue; // gone meanwhile
    }
    for (const ingress of [true, false]) {
      let filters;
      try {
        filters = nat.tcFilters(ifindex, ingress);
      } catch {
        continue;
      }
      for (const f of filters) {
        const prog = progs.get(f.progId);
        if (!prog) continue;
        held ??= scanHeldPrograms();
        if (held.ids.has(f.progId)) continue; // a running wirelens's
        if (!held.complete) {
          said.push(
            `warning: TC filter ${prog} on ${name} ${side(ingress)} may be left by an earlier wirelens, but not every process's fds can be read to be sure: left in place (\`tc filter del dev ${name} ${side(ingress)} pref ${f.priority}\` removes it)`,
          );
          continue;
        }
        try {
          if (nat.tcDetach(ifindex, ingress, f.handle, f.priority)) {
            freed.add(f.progId);
            said.push(`removed TC filter ${prog} on ${name} ${side(ingress)} left by an earlier wirelens`);
          }
        } catch {
          /* reported as an orphan program by preflight */
        }
      }
    }
  }
  return said;
}

const TC_REMEDY =
  'TC needs root (CAP_NET_ADMIN and CAP_BPF) and a kernel with clsact (CONFIG_NET_SCH_INGRESS) and cls_bpf (CONFIG_NET_CLS_BPF)';

/**
 * Attaches TC programs on interfaces, ingress or egress, as tcx links or as
 * classic filters. Classic filters and the qdiscs made for them are recorded
 * in this process's state file as they are made; close() detaches them and
 * removes a qdisc it created once nothing uses it (if another's filters
 * still do, the record stays for a later start to finish).
 */
export class TcAttachment {
  private readonly links: NativeLink[] = [];
  private readonly state: TcState = { pid: process.pid, netns: netnsInode(), filters: [], qdiscs: [] };

  constructor(
    private readonly ifaces: Iface[],
    private readonly classic: boolean,
  ) {}

  /** Attaches `program` on every interface; for the hook plan (HookCandidate.attach). */
  attach(obj: BpfObject, program: string, ingress: boolean): { close(): void } {
    const mine: NativeLink[] = [];
    try {
      for (const iface of this.ifaces) {
        let link: NativeLink;
        const what = `attaching ${program} to ${iface.name} (${this.classic ? 'TC clsact' : 'tcx'})`;
        try {
          link = this.classic
            ? obj.attach(program, { kind: 'tc', ifindex: iface.ifindex, ingress })
            : obj.attach(program, { kind: 'tcx', ifindex: iface.ifindex, ingress });
        } catch (e) {
          const errno = (e as { errno?: number }).errno;
          // Refused by policy, not by the kernel's abilities: no other hook kind would do better.
          if (errno === 1 || errno === 13) {
            throw new WlError('WL_ERR_USAGE', `-i ${iface.name}: no permission to attach TC programs (${what})`, {
              remedy: TC_REMEDY,
              cause: e,
            });
          }
          throw wrapNative(what, e, TC_REMEDY);
        }
        mine.push(link);
        this.links.push(link);
        if (this.classic) this.record(iface, ingress, link);
      }
    } catch (e) {
      for (const l of mine) l.close();
      this.finish();
      throw e;
    }
    return { close: () => mine.forEach((l) => l.close()) };
  }

  private record(iface: Iface, ingress: boolean, link: NativeLink): void {
    const handle = link.handle ?? 0;
    const priority = link.priority ?? 0;
    this.state.filters.push({
      ifindex: iface.ifindex,
      ifname: iface.name,
      ingress,
      handle,
      priority,
      progId: link.progId ?? 0,
    });
    if (link.createdHook && !this.state.qdiscs.some((q) => q.ifindex === iface.ifindex)) {
      this.state.qdiscs.push({ ifindex: iface.ifindex, ifname: iface.name });
    }
    writeState(this.state);
  }

  /** After the filters are gone: remove the qdiscs made here that nothing uses; keep the record of the rest. */
  private finish(): void {
    this.state.filters = [];
    this.state.qdiscs = this.state.qdiscs.filter((q) => !removeIfUnused(q.ifindex));
    writeState(this.state);
  }

  /** Detaches everything (idempotent). */
  close(): void {
    for (const link of this.links.splice(0)) {
      try {
        link.close();
      } catch {
        /* best effort at shutdown */
      }
    }
    this.finish();
  }
}

/** Where leftover programs sit when they are classic TC filters of another network namespace. */
export interface LeftoverPlace {
  /** Inode of the network namespace (as `ls -L -i /proc/PID/ns/net` and `lsns -t net` show it). */
  netns: number;
  /** Its `ip netns` name, when /run/netns has a bind mount of it. */
  name?: string;
  /** A process in it, when it has no name. */
  pid?: number;
  ifaces: string[];
  progIds: number[];
  /** The command that removes them, run from the host. */
  clean: string;
}

/**
 * The network namespaces (other than this one) whose classic TC filters run
 * the given programs, from the records dead wirelens processes left; each
 * with the command that cleans it. Programs not found there are not in the result.
 */
export function leftoverPlaces(progIds: number[], wirelens = 'wirelens'): LeftoverPlace[] {
  const here = netnsInode();
  const wanted = new Set(progIds);
  const byNs = new Map<number, LeftoverPlace>();
  const names = netnsNames();
  for (const st of readStates()) {
    if (st.netns === here || alive(st.pid)) continue;
    for (const f of st.filters) {
      if (!wanted.has(f.progId)) continue;
      let place = byNs.get(st.netns);
      if (!place) {
        const name = names.get(st.netns);
        const pid = name === undefined ? processInNetns(st.netns) : undefined;
        const clean =
          name !== undefined
            ? `ip netns exec ${name} ${wirelens} doctor --clean`
            : pid !== undefined
              ? `nsenter --net=/proc/${pid}/ns/net ${wirelens} doctor --clean`
              : `${wirelens} doctor --clean, run in that namespace`;
        place = { netns: st.netns, ifaces: [], progIds: [], clean };
        if (name !== undefined) place.name = name;
        if (pid !== undefined) place.pid = pid;
        byNs.set(st.netns, place);
      }
      if (!place.ifaces.includes(f.ifname)) place.ifaces.push(f.ifname);
      place.progIds.push(f.progId);
    }
  }
  return [...byNs.values()];
}

/** One line naming a place: `network namespace wlt-x (inode 4026532…), interfaces lo`. */
export function describePlace(p: LeftoverPlace): string {
  const ns =
    p.name !== undefined ? `network namespace "${p.name}" (inode ${p.netns})` : `network namespace inode ${p.netns}`;
  return `${ns}, on ${p.ifaces.join(', ')}`;
}
