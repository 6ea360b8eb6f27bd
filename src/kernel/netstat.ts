/**
 * A network namespace's own TCP/IP counters, as nstat names them
 * (TcpExtSyncookiesSent, TcpExtListenDrops, UdpNoPorts, IcmpOutDestUnreachs,
 * Icmp6OutDestUnreachs, ...), from net/netstat, net/snmp and net/snmp6 of a
 * process in that namespace (/proc/self for wirelens's own). The files'
 * format: pairs of lines "Prefix: name name ..." / "Prefix: value value ...";
 * snmp6 has one "Name value" per line.
 */
import * as fs from 'node:fs';
import { netnsInode } from './netns';
import { listPids } from './procfs';

/** Parses the text of net/netstat or net/snmp (header/value line pairs) into `into`. */
export function parseNetstatPairs(text: string, into: Map<string, number> = new Map()): Map<string, number> {
  const lines = text.split('\n');
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const h = lines[i]!;
    const v = lines[i + 1]!;
    const hc = h.indexOf(':');
    const vc = v.indexOf(':');
    if (hc <= 0 || vc <= 0 || h.slice(0, hc) !== v.slice(0, vc)) {
      i -= 1; // out of step: resynchronise on the next line
      continue;
    }
    const prefix = h.slice(0, hc);
    const names = h
      .slice(hc + 1)
      .trim()
      .split(/\s+/);
    const values = v
      .slice(vc + 1)
      .trim()
      .split(/\s+/);
    names.forEach((n, k) => {
      const x = Number(values[k]);
      if (n && Number.isFinite(x)) into.set(prefix + n, x);
    });
  }
  return into;
}

/** Parses net/snmp6 ("Icmp6OutDestUnreachs 12" per line) into `into`. */
export function parseSnmp6(text: string, into: Map<string, number> = new Map()): Map<string, number> {
  for (const line of text.split('\n')) {
    const m = /^(\S+)\s+(\d+)\s*$/.exec(line);
    if (m) into.set(m[1]!, Number(m[2]));
  }
  return into;
}

/** Reads the counters under a /proc/<pid>/net directory; null when it cannot be read. */
export function readNetCounters(netDir: string): Map<string, number> | null {
  const out = new Map<string, number>();
  let any = false;
  for (const f of ['netstat', 'snmp']) {
    try {
      parseNetstatPairs(fs.readFileSync(`${netDir}/${f}`, 'utf8'), out);
      any = true;
    } catch {
      /* this file is not there (no IPv6, a restricted /proc): the others still count */
    }
  }
  try {
    parseSnmp6(fs.readFileSync(`${netDir}/snmp6`, 'utf8'), out);
  } catch {
    /* no IPv6 */
  }
  return any ? out : null;
}

/**
 * Reads the counters of network namespaces by inode: wirelens's own from
 * /proc/self/net, others from /proc/<pid>/net of a process found in them
 * (remembered, and looked for again only when it left or died).
 */
export class NetnsCounters {
  readonly own = netnsInode();
  private readonly pidOf = new Map<number, number>();
  /** Namespaces no process was found in, and when to look again (a scan of /proc costs). */
  private readonly missUntil = new Map<number, number>();

  read(inodes: Iterable<number>): Map<number, Map<string, number>> {
    const out = new Map<number, Map<string, number>>();
    for (const ino of new Set([this.own, ...inodes])) {
      if (ino === 0) continue;
      const dir = ino === this.own ? '/proc/self/net' : this.dirOf(ino);
      if (!dir) continue;
      const c = readNetCounters(dir);
      if (c) out.set(ino, c);
    }
    return out;
  }

  /** A path that enters the namespace (setns): wirelens's own thread's, else a process's in it; undefined when none is known. */
  nsPath(ino: number): string | undefined {
    if (ino === this.own) return '/proc/thread-self/ns/net';
    const pid = this.pidIn(ino);
    return pid === undefined ? undefined : `/proc/${pid}/ns/net`;
  }

  private dirOf(ino: number): string | undefined {
    const pid = this.pidIn(ino);
    return pid === undefined ? undefined : `/proc/${pid}/net`;
  }

  private pidIn(ino: number): number | undefined {
    const known = this.pidOf.get(ino);
    if (known !== undefined && inodeOf(known) === ino) return known;
    this.pidOf.delete(ino);
    const now = performance.now();
    if ((this.missUntil.get(ino) ?? 0) > now) return undefined;
    const pids = listPids() ?? [];
    for (const p of pids) {
      if (inodeOf(Number(p)) === ino) {
        this.pidOf.set(ino, Number(p));
        this.missUntil.delete(ino);
        return Number(p);
      }
    }
    this.missUntil.set(ino, now + 10_000);
    return undefined;
  }
}

function inodeOf(pid: number): number | undefined {
  try {
    return fs.statSync(`/proc/${pid}/ns/net`).ino;
  } catch {
    return undefined;
  }
}
