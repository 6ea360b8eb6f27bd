/**
 * Distributed flood: packets/s arriving far above their moving baseline
 * (floodFactor times it, and at least floodMinPps), from many distinct
 * sources (floodMinSources) with none holding more than a fifth, for
 * sustainS intervals, and not already explained by a SYN, UDP or ICMP
 * flood alert. The baseline is an exponential moving average over
 * baselineS, not fed by the intervals that look like a flood.
 */
import { GuardFrame } from './frame';
import { FLOOD_COUNTERS, dropEvidence, netstatEvidence, perS, topSources } from './evidence';
import { Thresholds } from './thresholds';
import { Observation } from './types';

const MAX_TOP_SHARE = 0.2;

export class DistributedFloodDetector {
  private baseline: number | undefined;
  private streak = 0;

  constructor(private readonly t: Thresholds) {}

  /** Packets/s the baseline stands at (undefined before the first interval). */
  get baselinePps(): number | undefined {
    return this.baseline;
  }

  observe(f: GuardFrame, explained: boolean): Observation[] {
    const t = this.t;
    let pkts = 0;
    for (const p of f.protos.values()) pkts += p.d.pkts;
    const pps = pkts / f.dtS;
    const base = this.baseline ?? pps;
    const surge = pps >= Math.max(t.floodMinPps, t.floodFactor * base);
    if (!surge) {
      const a = Math.min(1, f.dtS / t.baselineS);
      this.baseline = this.baseline === undefined ? pps : this.baseline + a * (pps - this.baseline);
    }
    const top = topSources(f.sources, (c) => c.pkts, pkts, f.dtS);
    const distinct = f.distinct?.all ?? 0;
    const spread = distinct >= t.floodMinSources && (top[0]?.share ?? 0) <= MAX_TOP_SHARE;
    if (!surge || !spread || explained) {
      this.streak = 0;
      return [];
    }
    if (++this.streak < t.sustainS) return [];
    let busiest = f.ports[0];
    for (const p of f.ports) if (!busiest || p.d.pkts > busiest.d.pkts) busiest = p;
    const target = busiest && busiest.d.pkts >= 0.5 * pkts ? busiest : undefined;
    return [
      {
        kind: 'distributed_flood',
        traffic: 'packets',
        key: 'host',
        severity: 'high',
        target: {
          address: target?.daddr || null,
          port: target?.port ?? null,
          protocol: target?.proto ?? 'any',
          netns: f.ownNetns,
        },
        source: { address: null, distinct, top },
        figures: {
          pps: perS(pkts, f.dtS),
          baseline_pps: Math.round(base * 10) / 10,
          bps: perS(sumBytes(f) * 8, f.dtS),
        },
        thresholds: {
          flood_factor: t.floodFactor,
          flood_min_pps: t.floodMinPps,
          flood_min_sources: t.floodMinSources,
          top_share_at_most: MAX_TOP_SHARE,
          sustain_s: t.sustainS,
        },
        evidence: [...netstatEvidence(f, f.ownNetns, FLOOD_COUNTERS), ...dropEvidence(f, f.ownNetns, undefined, 100)],
      },
    ];
  }
}

function sumBytes(f: GuardFrame): number {
  let n = 0;
  for (const p of f.protos.values()) n += p.d.bytes;
  return n;
}
