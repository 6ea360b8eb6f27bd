/**
 * Port scan per remote: the distinct ports it was refused at (a RST or an
 * ICMP unreachable sent to it), or sent a TCP SYN to that got no answer at
 * all (a firewall dropped it), within the window reach scanPorts (Zeek's
 * scan policy: 15 ports in 5 minutes). The kernel keeps per remote per
 * bucket a bitmap of refused ports and one of ports SYN'd and not answered
 * yet; a port still pending at two reads in a row (an interval apart: any
 * answer leaves within milliseconds) went unanswered. Ports map to bits by a
 * hash seeded per run, so the distinct ports are estimated from the bits set
 * (linear counting). The window is the union of the last buckets. An alert
 * lasts while new ports are added or, once the remote has its own counters,
 * while it is refused or its SYNs go unanswered (a scan going over ports
 * already counted, or past a bucket's turn, is still a scan).
 */
import { GuardFrame } from './frame';
import { REFUSAL_COUNTERS, dropEvidence, netstatEvidence, perS } from './evidence';
import { bitsSet, linearCount, orInto } from './sketch-math';
import { GuardCounts, GuardSample } from '../../model/guard';
import { Thresholds } from './thresholds';
import { Observation } from './types';

export class PortScanDetector {
  /** Bits set in each remote's window at the last interval (growth means it is still scanning), and its ports. */
  private readonly last = new Map<string, { set: number; ports: number }>();

  constructor(
    private readonly t: Thresholds,
    /** Seconds per kernel scan bucket. */
    private readonly bucketS: number,
  ) {}

  observe(f: GuardFrame): Observation[] {
    const out: Observation[] = [];
    const t = this.t;
    const buckets = Math.max(1, Math.ceil(t.scanWindowS / this.bucketS));
    const from = f.sample.bucket - buckets + 1;
    const seen = new Set<string>();
    const remotes = [...f.sample.scans.keys()];
    for (const src of f.sample.pending.keys()) if (!f.sample.scans.has(src)) remotes.push(src);
    for (const src of remotes) {
      const refused = windowUnion(f.sample.scans.get(src), from, f.sample.bucket);
      const unanswered = windowUnion(unansweredOf(f.prev, f.sample, src), from, f.sample.bucket);
      if (!refused && !unanswered) continue;
      seen.add(src);
      // Counted before the union is made in place (windowUnion's arrays are fresh).
      const refusedPorts = refused ? linearCount(refused) : 0;
      const unansweredPorts = unanswered ? linearCount(unanswered) : 0;
      const union = refused ?? unanswered!;
      if (refused && unanswered) orInto(union, unanswered);
      const set = bitsSet(union);
      const before = this.last.get(src) ?? { set: 0, ports: 0 };
      // Ports map to bits by a seeded hash (a range or any set the remote picks lands at random bits): the bits
      // set undercount by the collisions, linear counting corrects for them (within 2% to 8192 ports in 4096
      // bits; a full bitmap reads as its floor, 34k).
      const ports = linearCount(union);
      this.last.set(src, { set, ports });
      const s = f.sources.find((x) => x.address === src);
      if (ports < t.scanPorts || (set <= before.set && !(s && stillProbing(s.d)))) continue;
      out.push({
        kind: 'port_scan',
        traffic: unansweredPorts > refusedPorts ? 'unanswered' : 'refusals',
        key: src,
        severity: ports >= 100 ? 'medium' : 'low',
        target: { address: null, port: null, protocol: 'tcp/udp', netns: f.ownNetns },
        source: { address: src, distinct: null, top: [] },
        figures: {
          ports,
          refused_ports: refusedPorts,
          unanswered_ports: unansweredPorts,
          new_ports: Math.max(0, ports - before.ports),
          window_s: buckets * this.bucketS,
          refusals_per_s: s ? perS(s.d.rstOut + s.d.unreachOut, f.dtS) : null,
          syn_per_s: s ? perS(s.d.syn, f.dtS) : null,
        },
        thresholds: { scan_ports: t.scanPorts, scan_window_s: t.scanWindowS },
        evidence: [...netstatEvidence(f, f.ownNetns, REFUSAL_COUNTERS), ...dropEvidence(f, f.ownNetns, ['NO_SOCKET'])],
      });
    }
    for (const k of this.last.keys()) if (!seen.has(k)) this.last.delete(k);
    return out;
  }
}

/** This interval, the remote was refused (RST, ICMP unreachable) or sent SYNs nothing answered. */
function stillProbing(c: GuardCounts): boolean {
  return c.rstOut + c.unreachOut > 0 || c.syn > c.synack + c.rstOut + c.unreachOut;
}

/** Distinct ports (an estimate) `src` was refused at in the scan window ending at the sample's bucket. */
export function refusedPortsInWindow(sample: GuardSample, src: string, windowS: number, bucketS: number): number {
  const buckets = Math.max(1, Math.ceil(windowS / bucketS));
  const refused = windowUnion(sample.scans.get(src), sample.bucket - buckets + 1, sample.bucket);
  return refused ? linearCount(refused) : 0;
}

/** The union of a remote's bitmaps over buckets from..to, undefined when it has none there. */
function windowUnion(per: Map<number, Uint32Array> | undefined, from: number, to: number): Uint32Array | undefined {
  let union: Uint32Array | undefined;
  for (const [b, bits] of per ?? []) {
    if (b < from || b > to) continue;
    union ??= new Uint32Array(bits.length);
    orInto(union, bits);
  }
  return union;
}

/** Per bucket, the ports `src` SYN'd that were pending at both reads (no answer within an interval). */
function unansweredOf(prev: GuardSample, cur: GuardSample, src: string): Map<number, Uint32Array> | undefined {
  const was = prev.pending.get(src);
  const now = cur.pending.get(src);
  if (!was || !now) return undefined;
  const out = new Map<number, Uint32Array>();
  for (const [b, bits] of now) {
    const before = was.get(b);
    if (!before) continue;
    const both = bits.map((w, i) => w & before[i]!);
    out.set(b, both);
  }
  return out;
}
