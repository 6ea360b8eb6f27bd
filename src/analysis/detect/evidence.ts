/** Which kernel counters moved in an interval, as evidence for an alert, and other helpers the detectors share. */
import { GuardCounts } from '../../model/guard';
import { GuardFrame } from './frame';
import { Evidence, SourceDelta, TopSource } from './types';

/** The SYN queue in trouble: the kernel answering with cookies, or dropping. */
export const SYN_QUEUE_COUNTERS = [
  'TcpExtTCPReqQFullDoCookies',
  'TcpExtSyncookiesSent',
  'TcpExtTCPReqQFullDrop',
  'TcpExtListenOverflows',
  'TcpExtListenDrops',
];
/**
 * Real clients turned away: SYNs dropped for a full queue with no cookie to
 * answer, handshakes completed into a full accept queue. (ListenDrops also
 * counts SYNs whose answer has no route, as spoofed ones often have: it is
 * evidence, not a sign that clients suffer.)
 */
export const CLIENT_DROP_COUNTERS = ['TcpExtTCPReqQFullDrop', 'TcpExtListenOverflows'];
export const CLIENT_DROP_REASONS = ['TCP_LISTEN_OVERFLOW', 'TCP_REQQFULLDROP'];
/** A remote refused: resets and unreachables sent, datagrams to no socket. */
export const REFUSAL_COUNTERS = [
  'TcpOutRsts',
  'TcpAttemptFails',
  'IcmpOutDestUnreachs',
  'Icmp6OutDestUnreachs',
  'UdpNoPorts',
];
/** Floods overrunning sockets or the stack. */
export const FLOOD_COUNTERS = [
  'UdpInErrors',
  'UdpRcvbufErrors',
  'UdpNoPorts',
  'IcmpInEchos',
  'IcmpOutEchoReps',
  'Icmp6InEchos',
  'TcpExtTCPBacklogDrop',
  ...SYN_QUEUE_COUNTERS,
];

export function netstatEvidence(f: GuardFrame, netns: number, names: readonly string[]): Evidence[] {
  const moved = f.netstat.get(netns);
  if (!moved) return [];
  const out: Evidence[] = [];
  for (const n of names) {
    const v = moved.get(n);
    if (v) out.push({ counter: n, delta: v, netns });
  }
  return out;
}

/**
 * Drops by reason that moved in one network namespace (the alert's): the named ones, or (names undefined)
 * every reason with at least `min`.
 */
export function dropEvidence(f: GuardFrame, netns: number, names?: readonly string[], min = 1): Evidence[] {
  const out: Evidence[] = [];
  for (const [r, n] of f.drops.get(netns) ?? [])
    if ((names ? names.includes(r) : true) && n >= min) out.push({ counter: `drop:${r}`, delta: n, netns });
  return out;
}

/** Consecutive intervals a condition held, per key; keys not hit in an interval start again from zero. */
export class Streaks {
  private readonly n = new Map<string, number>();
  private hitNow = new Set<string>();

  hit(key: string): number {
    const v = (this.n.get(key) ?? 0) + 1;
    this.n.set(key, v);
    this.hitNow.add(key);
    return v;
  }

  /** Ends the interval: forgets every key not hit in it. */
  settle(): void {
    for (const k of this.n.keys()) if (!this.hitNow.has(k)) this.n.delete(k);
    this.hitNow = new Set();
  }
}

export const perS = (n: number, dtS: number): number => Math.round((n / dtS) * 10) / 10;

/** The top sources by one counter, with their rate and share of `total`. */
export function topSources(
  sources: SourceDelta[],
  pick: (c: GuardCounts) => number,
  total: number,
  dtS: number,
  n = 3,
): TopSource[] {
  return sources
    .filter((s) => pick(s.d) > 0)
    .sort((a, b) => pick(b.d) - pick(a.d))
    .slice(0, n)
    .map((s) => ({
      address: s.address,
      pps: perS(pick(s.d), dtS),
      share: total > 0 ? Math.round((pick(s.d) / total) * 1000) / 1000 : 0,
    }));
}

/** The one source that makes up at least `share` of `total` (by `pick`), if any. */
export function dominant(
  sources: SourceDelta[],
  pick: (c: GuardCounts) => number,
  total: number,
  share: number,
): SourceDelta | undefined {
  if (total <= 0) return undefined;
  let best: SourceDelta | undefined;
  for (const s of sources) if (!best || pick(s.d) > pick(best.d)) best = s;
  return best && pick(best.d) >= share * total ? best : undefined;
}

export const ratio = (a: number, b: number): number | null => (b > 0 ? Math.round((a / b) * 1000) / 1000 : null);
