/**
 * TC programs on network interfaces, and what they leave behind. tcx links
 * (Linux 6.6+) die with the process. Classic TC filters (a clsact qdisc and
 * bpf filters, libbpf bpf_tc_*) outlive it: wirelens detaches its filters
 * at exit, removes the clsact qdisc only if it created it and nothing else
 * uses it, and writes down what it created in /run/wirelens/tc.json so a
 * later start can clean up after a SIGKILL (and say so).
 */
import * as fs from 'node:fs';
import { WlError, wrapNative } from '../errors';
import { heldProgramIds, PROG_PREFIX } from './leftovers';
import { NativeLink, native } from './native';
import { BpfObject } from './object';

export interface Iface {
  name: string;
  ifindex: number;
  /** Bytes of link-layer header before the IP header. */
  l2Len: number;
}

const STATE_DIR = '/run/wirelens';
const STATE_FILE = `${STATE_DIR}/tc.json`;

/** A clsact qdisc wirelens created: remove it when no filter uses it and its creator is gone. */
interface CreatedQdisc {
  netns: number;
  ifindex: number;
  ifname: string;
  pid: number;
}

const ARPHRD_ETHER = 1;
const ARPHRD_LOOPBACK = 772;

function netnsInode(): number {
  try {
    return fs.statSync('/proc/self/ns/net').ino;
  } catch {
    return 0;
  }
}

/** Looks up an interface of this network namespace; a clear usage error when there is none. */
export function resolveIface(name: string): Iface {
  const base = `/sys/class/net/${name}`;
  if (name.includes('/') || name === '.' || name === '..' || !fs.existsSync(`${base}/ifindex`)) {
    const known = listIfaces().join(', ');
    throw new WlError('WL_ERR_USAGE', `-i ${JSON.stringify(name)}: no such network interface in this network namespace`, {
      remedy: `choose one of: ${known || '(none found)'} (\`ip link\` lists them; for another namespace run wirelens with \`ip netns exec NS\`)`,
    });
  }
  const ifindex = Number(fs.readFileSync(`${base}/ifindex`, 'utf8').trim());
  const type = Number(fs.readFileSync(`${base}/type`, 'utf8').trim());
  return { name, ifindex, l2Len: type === ARPHRD_ETHER || type === ARPHRD_LOOPBACK ? 14 : 0 };
}

export function listIfaces(): string[] {
  try {
    return fs.readdirSync('/sys/class/net').sort();
  } catch {
    return [];
  }
}

function readState(): CreatedQdisc[] {
  try {
    const v = JSON.parse(fs.readFileSync(STATE_FILE, 'utf8')) as unknown;
    return Array.isArray(v) ? (v as CreatedQdisc[]).filter((q) => typeof q?.ifindex === 'number' && typeof q?.pid === 'number') : [];
  } catch {
    return [];
  }
}

function writeState(list: CreatedQdisc[]): void {
  try {
    if (list.length === 0) {
      fs.rmSync(STATE_FILE, { force: true });
      return;
    }
    fs.mkdirSync(STATE_DIR, { recursive: true });
    fs.writeFileSync(`${STATE_FILE}.tmp`, JSON.stringify(list));
    fs.renameSync(`${STATE_FILE}.tmp`, STATE_FILE);
  } catch {
    /* without the note, a later start still removes orphan filters; only the qdisc would stay */
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

/**
 * Removes what a dead wirelens left on this namespace's interfaces: bpf
 * filters running a wl_ program no process holds, then the clsact qdiscs it
 * created that nothing uses any more. Returns one line per removal.
 */
export function removeTcLeftovers(): string[] {
  const said: string[] = [];
  const nat = native();
  const progs = new Map(nat.listPrograms().filter((p) => p.name.startsWith(PROG_PREFIX)).map((p) => [p.id, p.name]));
  let held: Set<number> | undefined;
  if (progs.size > 0) {
    for (const name of listIfaces()) {
      let iface: Iface;
      try {
        iface = resolveIface(name);
      } catch {
        continue; // gone meanwhile
      }
      for (const ingress of [true, false]) {
        let filters;
        try {
          filters = nat.tcFilters(iface.ifindex, ingress);
        } catch {
          continue;
        }
        for (const f of filters) {
          const prog = progs.get(f.progId);
          if (!prog) continue;
          held ??= heldProgramIds();
          if (held.has(f.progId)) continue; // a running wirelens's
          try {
            if (nat.tcDetach(iface.ifindex, ingress, f.handle, f.priority)) {
              said.push(`removed TC filter ${prog} on ${name} ${ingress ? 'ingress' : 'egress'} left by an earlier wirelens`);
            }
          } catch {
            /* reported as an orphan program by preflight */
          }
        }
      }
    }
  }
  const here = netnsInode();
  const keep: CreatedQdisc[] = [];
  for (const q of readState()) {
    if (alive(q.pid) || q.netns !== here) {
      keep.push(q);
      continue;
    }
    try {
      if (filterCount(q.ifindex) === 0 && nat.tcRemoveClsact(q.ifindex)) {
        said.push(`removed the clsact qdisc an earlier wirelens added to ${q.ifname}`);
      }
    } catch {
      /* the interface is gone, or not ours to touch any more */
    }
  }
  writeState(keep);
  return said;
}

const TC_REMEDY =
  'TC needs root (CAP_NET_ADMIN and CAP_BPF) and a kernel with clsact (CONFIG_NET_SCH_INGRESS) and cls_bpf (CONFIG_NET_CLS_BPF)';

/**
 * Attaches TC programs on interfaces, ingress or egress, as tcx links or as
 * classic filters. close() detaches them and removes a qdisc it created
 * that nothing else uses.
 */
export class TcAttachment {
  private readonly links: { link: NativeLink; iface: Iface; classic: boolean }[] = [];
  private readonly created = new Set<number>();

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
        try {
          link = this.classic
            ? obj.attach(program, { kind: 'tc', ifindex: iface.ifindex, ingress })
            : obj.attach(program, { kind: 'tcx', ifindex: iface.ifindex, ingress });
        } catch (e) {
          const what = `attaching ${program} to ${iface.name} (${this.classic ? 'TC clsact' : 'tcx'})`;
          const errno = (e as { errno?: number }).errno;
          // Refused by policy, not by the kernel's abilities: no other hook kind would do better.
          if (errno === 1 || errno === 13) {
            throw new WlError('WL_ERR_USAGE', `-i ${iface.name}: no permission to attach TC programs (${what})`, { remedy: TC_REMEDY, cause: e });
          }
          throw wrapNative(what, e, TC_REMEDY);
        }
        mine.push(link);
        this.links.push({ link, iface, classic: this.classic });
        if (link.createdHook) this.noteCreated(iface);
      }
    } catch (e) {
      for (const l of mine) l.close();
      this.removeUnused();
      throw e;
    }
    return { close: () => mine.forEach((l) => l.close()) };
  }

  private noteCreated(iface: Iface): void {
    if (this.created.has(iface.ifindex)) return;
    this.created.add(iface.ifindex);
    const list = readState().filter((q) => !(q.ifindex === iface.ifindex && q.netns === netnsInode()));
    list.push({ netns: netnsInode(), ifindex: iface.ifindex, ifname: iface.name, pid: process.pid });
    writeState(list);
  }

  /** Removes the qdiscs this run created, where no filter (ours or anyone's) remains. */
  private removeUnused(): void {
    for (const ifindex of this.created) {
      try {
        if (filterCount(ifindex) === 0) native().tcRemoveClsact(ifindex);
      } catch {
        /* the interface went away */
      }
    }
    this.created.clear();
    const here = netnsInode();
    writeState(readState().filter((q) => !(q.pid === process.pid && q.netns === here)));
  }

  /** Detaches everything (idempotent). */
  close(): void {
    for (const { link } of this.links.splice(0)) {
      try {
        link.close();
      } catch {
        /* best effort at shutdown */
      }
    }
    this.removeUnused();
  }
}
