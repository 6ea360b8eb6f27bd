/**
 * UDP and ICMP floods at a target, from any number of sources: UDP
 * packets/s to one port over udpRate (or to the host, when the flood is
 * spread over ports no single one of which passes the kernel's floor), ICMP
 * packets/s to the host over icmpRate, for sustainS intervals. A flood one
 * source makes up is left to the single-source detector.
 */
import { GuardFrame } from './frame';
import { FLOOD_COUNTERS, Streaks, dominant, dropEvidence, netstatEvidence, perS, topSources } from './evidence';
import { Thresholds } from './thresholds';
import { Observation } from './types';

export class ProtoFloodDetector {
  private readonly streaks = new Streaks();

  constructor(private readonly t: Thresholds) {}

  observe(f: GuardFrame): Observation[] {
    const out: Observation[] = [];
    const t = this.t;
    const udpTotal = f.protos.get('udp')?.d.udp ?? 0;
    const candidates: {
      key: string;
      n: number;
      port: number | null;
      daddr: string;
      kind: 'udp' | 'icmp';
      proto: string;
    }[] = [];
    let portsUdp = 0;
    for (const p of f.ports) {
      if (p.proto !== 'udp') continue;
      portsUdp += p.d.udp;
      if (p.d.udp / f.dtS >= t.udpRate)
        candidates.push({ key: `udp/${p.port}`, n: p.d.udp, port: p.port, daddr: p.daddr, kind: 'udp', proto: 'udp' });
    }
    const spread = udpTotal - portsUdp;
    if (spread / f.dtS >= t.udpRate && spread >= 0.5 * udpTotal)
      candidates.push({
        key: 'udp/*',
        n: udpTotal,
        port: null,
        daddr: f.protos.get('udp')?.daddr ?? '',
        kind: 'udp',
        proto: 'udp',
      });
    const icmp = f.protos.get('icmp')?.d.icmp ?? 0;
    const icmp6 = f.protos.get('icmpv6')?.d.icmp ?? 0;
    if ((icmp + icmp6) / f.dtS >= t.icmpRate) {
      const p = icmp6 > icmp ? f.protos.get('icmpv6') : f.protos.get('icmp');
      candidates.push({
        key: 'icmp',
        n: icmp + icmp6,
        port: null,
        daddr: p?.daddr ?? '',
        kind: 'icmp',
        proto: p?.proto ?? 'icmp',
      });
    }
    for (const c of candidates) {
      const pick = c.kind === 'udp' ? (x: { udp: number }) => x.udp : (x: { icmp: number }) => x.icmp;
      const one = dominant(f.sources, pick, c.n, t.dominantShare);
      const own = c.kind === 'udp' ? t.sourceUdp : t.sourceIcmp;
      if (one && pick(one.d) / f.dtS >= own) continue;
      if (this.streaks.hit(c.key) < t.sustainS) continue;
      out.push({
        kind: c.kind === 'udp' ? 'udp_flood' : 'icmp_flood',
        traffic: c.kind,
        key: c.key,
        severity: 'medium',
        target: { address: c.daddr || null, port: c.port, protocol: c.proto, netns: f.ownNetns },
        source: {
          address: null,
          distinct: f.distinct ? (c.kind === 'udp' ? f.distinct.udp : f.distinct.icmp) : null,
          top: topSources(f.sources, pick, c.n, f.dtS),
        },
        figures: { pps: perS(c.n, f.dtS) },
        thresholds:
          c.kind === 'udp'
            ? { udp_rate: t.udpRate, sustain_s: t.sustainS }
            : { icmp_rate: t.icmpRate, sustain_s: t.sustainS },
        evidence: [...netstatEvidence(f, f.ownNetns, FLOOD_COUNTERS), ...dropEvidence(f, f.ownNetns, undefined, 100)],
      });
    }
    this.streaks.settle();
    return out;
  }
}
