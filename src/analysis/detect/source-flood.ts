/**
 * Flood from one source: for sustainS intervals in a row, one source over
 * a threshold: SYNs/s with most not completing, and most not refused or
 * refused at fewer ports than make a scan (a stream refused at many ports
 * is a scan; one closed port hammered is a flood), UDP/s, ICMP/s, or
 * packets/s of any kind. The target named is the busiest port (or the
 * host) of that kind.
 */
import { GuardFrame } from './frame';
import { FLOOD_COUNTERS, Streaks, dropEvidence, netstatEvidence, perS, ratio } from './evidence';
import { refusedPortsInWindow } from './port-scan';
import { Thresholds } from './thresholds';
import { Observation, PortDelta, Target } from './types';
import { GuardCounts } from '../../model/guard';

type Traffic = 'syn' | 'udp' | 'icmp' | 'packets';

export class SourceFloodDetector {
  private readonly streaks = new Streaks();

  constructor(
    private readonly t: Thresholds,
    /** Seconds per kernel scan bucket. */
    private readonly bucketS: number,
  ) {}

  private traffic(c: GuardCounts, dtS: number, refusedPorts: () => number): Traffic | undefined {
    const t = this.t;
    if (c.syn / dtS >= t.sourceSyn && c.est < 0.5 * c.syn && (c.rstOut < 0.5 * c.syn || refusedPorts() < t.scanPorts))
      return 'syn';
    if (c.udp / dtS >= t.sourceUdp) return 'udp';
    if (c.icmp / dtS >= t.sourceIcmp) return 'icmp';
    if (c.pkts / dtS >= t.sourcePps) return 'packets';
    return undefined;
  }

  observe(f: GuardFrame): Observation[] {
    const out: Observation[] = [];
    const t = this.t;
    for (const s of f.sources) {
      const kind = this.traffic(s.d, f.dtS, () =>
        refusedPortsInWindow(f.sample, s.address, t.scanWindowS, this.bucketS),
      );
      if (!kind) continue;
      if (this.streaks.hit(s.address) < t.sustainS) continue;
      const target = targetOf(f, kind);
      out.push({
        kind: 'source_flood',
        traffic: kind,
        key: s.address,
        severity:
          f.drops.has(target.netns) &&
          netstatEvidence(f, target.netns, ['TcpExtListenDrops', 'UdpRcvbufErrors', 'TcpExtTCPReqQFullDrop']).length > 0
            ? 'high'
            : 'medium',
        target,
        source: { address: s.address, distinct: null, top: [] },
        figures: {
          pps: perS(s.d.pkts, f.dtS),
          bps: perS(s.d.bytes * 8, f.dtS),
          syn_per_s: perS(s.d.syn, f.dtS),
          udp_per_s: perS(s.d.udp, f.dtS),
          icmp_per_s: perS(s.d.icmp, f.dtS),
          completed_ratio: ratio(s.d.est, s.d.syn),
          refused_per_s: perS(s.d.rstOut + s.d.unreachOut, f.dtS),
          blocked_per_s: perS(s.d.blocked, f.dtS),
        },
        thresholds: {
          source_syn: t.sourceSyn,
          scan_ports: t.scanPorts,
          source_udp: t.sourceUdp,
          source_icmp: t.sourceIcmp,
          source_pps: t.sourcePps,
          sustain_s: t.sustainS,
        },
        evidence: [
          ...netstatEvidence(f, target.netns, FLOOD_COUNTERS),
          ...dropEvidence(f, target.netns, undefined, 100),
        ],
      });
    }
    this.streaks.settle();
    return out;
  }
}

function targetOf(f: GuardFrame, kind: Traffic): Target {
  const proto = kind === 'udp' ? 'udp' : kind === 'icmp' ? 'icmp' : 'tcp';
  if (kind === 'icmp') {
    const p = f.protos.get('icmp');
    const p6 = f.protos.get('icmpv6');
    const busiest = (p6?.d.pkts ?? 0) > (p?.d.pkts ?? 0) ? p6 : p;
    return { address: busiest?.daddr || null, port: null, protocol: busiest?.proto ?? 'icmp', netns: f.ownNetns };
  }
  const pick = (x: PortDelta): number => (kind === 'syn' ? x.d.syn : x.d.pkts);
  let best: PortDelta | undefined;
  for (const p of f.ports) if ((kind === 'packets' || p.proto === proto) && (!best || pick(p) > pick(best))) best = p;
  if (!best) return { address: f.protos.get(proto)?.daddr || null, port: null, protocol: proto, netns: f.ownNetns };
  const l = f.listen.filter((x) => x.port === best.port);
  return {
    address: best.daddr || null,
    port: best.port,
    protocol: best.proto,
    netns: best.proto === 'tcp' && l.length === 1 ? l[0]!.netns : f.ownNetns,
  };
}
