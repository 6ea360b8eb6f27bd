/**
 * Port scan per remote: the distinct ports it was refused at (a RST or an
 * ICMP unreachable sent to it) within the window reach scanPorts (Zeek's
 * scan policy: 15 ports in 5 minutes). The kernel keeps a bitmap of refused
 * ports per remote per bucket; the window is the union of its last buckets.
 * An alert lasts while new ports are being refused.
 */
import { GuardFrame } from './frame';
import { REFUSAL_COUNTERS, dropEvidence, netstatEvidence, perS } from './evidence';
import { bitsSet, linearCount, orInto } from './sketch-math';
import { Thresholds } from './thresholds';
import { Observation } from './types';

export class PortScanDetector {
  /** Bits set in each remote's window at the last interval: growth means it is still scanning. */
  private readonly lastSet = new Map<string, number>();

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
    for (const [src, per] of f.sample.scans) {
      let union: Uint32Array | undefined;
      for (const [b, bits] of per) {
        if (b < from || b > f.sample.bucket) continue;
        union ??= new Uint32Array(bits.length);
        orInto(union, bits);
      }
      if (!union) continue;
      seen.add(src);
      const set = bitsSet(union);
      const before = this.lastSet.get(src) ?? 0;
      this.lastSet.set(src, set);
      const ports = linearCount(union);
      if (ports < t.scanPorts || set <= before) continue;
      const s = f.sources.find((x) => x.address === src);
      out.push({
        kind: 'port_scan',
        traffic: 'refusals',
        key: src,
        severity: ports >= 100 ? 'medium' : 'low',
        target: { address: null, port: null, protocol: 'tcp/udp', netns: f.ownNetns },
        source: { address: src, distinct: null, top: [] },
        figures: {
          ports,
          new_ports: set - before,
          window_s: buckets * this.bucketS,
          refusals_per_s: s ? perS(s.d.rstOut + s.d.unreachOut, f.dtS) : null,
          syn_per_s: s ? perS(s.d.syn, f.dtS) : null,
        },
        thresholds: { scan_ports: t.scanPorts, scan_window_s: t.scanWindowS },
        evidence: [...netstatEvidence(f, f.ownNetns, REFUSAL_COUNTERS), ...dropEvidence(f, ['NO_SOCKET'])],
      });
    }
    for (const k of this.lastSet.keys()) if (!seen.has(k)) this.lastSet.delete(k);
    return out;
  }
}
