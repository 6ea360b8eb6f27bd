/**
 * SYN flood per listening port: many SYNs and few of them completing, the
 * kernel itself reporting its SYN queue overrun (cookies sent, requests
 * dropped), or the listener's queues read near their limit (half-open
 * connections at 90% of the backlog, or the accept queue full), while SYNs
 * pour in. A flood one source makes up is left to the single-source
 * detector. High severity when real clients are turned away: drops counted,
 * or the accept queue past its limit.
 */
import { GuardCounts, ListenQueue } from '../../model/guard';
import { GuardFrame } from './frame';
import {
  CLIENT_DROP_COUNTERS,
  CLIENT_DROP_REASONS,
  SYN_QUEUE_COUNTERS,
  Streaks,
  dominant,
  dropEvidence,
  netstatEvidence,
  perS,
  ratio,
  topSources,
} from './evidence';
import { Thresholds } from './thresholds';
import { Observation } from './types';

/** Half-open connections at this share of the backlog make the SYN queue "near the backlog". */
export const SYN_QUEUE_SHARE = 0.9;

/** The listener's queues near or past their limit: the SYN queue at 90% of the backlog, or the accept queue full. */
export function queueNearFull(q: ListenQueue): boolean {
  return q.synQueue >= Math.max(1, SYN_QUEUE_SHARE * q.backlog) || q.acceptQueue >= Math.max(1, q.backlog);
}

/**
 * A source's SYNs that may have gone to a listener: those not refused with a
 * reset. Sources are counted host-wide, not per port, so a scanner's SYNs to
 * closed ports (each answered with a reset) must not make it a listener's
 * flooder.
 */
const synNotRefused = (c: GuardCounts): number => Math.max(0, c.syn - c.rstOut);

export class SynFloodDetector {
  private readonly streaks = new Streaks();

  constructor(private readonly t: Thresholds) {}

  observe(f: GuardFrame): Observation[] {
    const out: Observation[] = [];
    const t = this.t;
    const totalSyn = f.protos.get('tcp')?.d.syn ?? 0;
    for (const p of f.ports) {
      if (p.proto !== 'tcp') continue;
      const synPs = p.d.syn / f.dtS;
      // Each rule has its own rate: the rate rule --syn-rate, the kernel's word --syn-evidence-rate.
      const byRate = synPs >= t.synRate;
      const byKernel = synPs >= t.synEvidenceRate;
      if (!byRate && !byKernel) continue;
      // The listener's namespace: where a handshake on this port completed or was retried, else where its
      // queues were read, else the interfaces'.
      // The handshake hooks see every namespace of the host, and other namespaces may listen on the same
      // port (containers on :80): the interfaces' own namespace wins when it listens there.
      const l = f.listen.filter((x) => x.port === p.port);
      const queued = [...f.sample.queues.values()].filter((x) => x.port === p.port);
      const own = l.some((x) => x.netns === f.ownNetns) || queued.some((x) => x.netns === f.ownNetns);
      const netns = own
        ? f.ownNetns
        : l.length === 1
          ? l[0]!.netns
          : queued.length === 1
            ? queued[0]!.netns
            : f.ownNetns;
      const q = f.sample.queues.get(`${netns}/${p.port}`);
      const full = byKernel && q !== undefined && queueNearFull(q);
      const queue = byKernel ? netstatEvidence(f, netns, SYN_QUEUE_COUNTERS) : [];
      const retrans = l.reduce((n, x) => (x.netns === netns ? n + x.synackRetrans : n), 0);
      const completed = ratio(p.d.est, p.d.syn) ?? 0;
      const halfOpen = byRate && completed < 0.5;
      if (!halfOpen && queue.length === 0 && !full) continue;
      const one = dominant(f.sources, synNotRefused, p.d.syn, t.dominantShare);
      if (one && synNotRefused(one.d) / f.dtS >= t.sourceSyn) continue; // a single source's flood: source_flood says it
      const key = `${netns}/tcp/${p.port}`;
      // The kernel's own word (its counters, its queues) needs no second interval; a rate alone does.
      if (this.streaks.hit(key) < (queue.length > 0 || full ? 1 : Math.min(2, t.sustainS))) continue;
      const drops = [
        ...netstatEvidence(f, netns, CLIENT_DROP_COUNTERS),
        ...dropEvidence(f, netns, CLIENT_DROP_REASONS),
      ];
      const evidence = [...queue.filter((e) => !CLIENT_DROP_COUNTERS.includes(e.counter)), ...drops];
      if (retrans > 0) evidence.push({ counter: 'synack_retransmits', delta: retrans, netns });
      // Distinct SYN sources are counted host-wide: they are this port's when it has most of the SYNs.
      const distinct = f.distinct && p.d.syn >= 0.5 * totalSyn ? f.distinct.syn : null;
      out.push({
        kind: 'syn_flood',
        traffic: 'syn',
        key,
        // The accept queue past its limit (the kernel's sk_acceptq_is_full) turns completed handshakes away.
        severity: drops.length > 0 || (q !== undefined && q.acceptQueue > q.backlog) ? 'high' : 'medium',
        target: { address: p.daddr || null, port: p.port, protocol: 'tcp', netns },
        source: { address: null, distinct, top: topSources(f.sources, synNotRefused, p.d.syn, f.dtS) },
        figures: {
          syn_per_s: perS(p.d.syn, f.dtS),
          completed_per_s: perS(p.d.est, f.dtS),
          completed_ratio: ratio(p.d.est, p.d.syn),
          synack_per_s: perS(p.d.synack, f.dtS),
          synack_retrans_per_s: perS(retrans, f.dtS),
          half_open: q ? q.synQueue : null,
          accept_queue: q ? q.acceptQueue : null,
          backlog: q ? q.backlog : null,
        },
        thresholds: {
          syn_rate: t.synRate,
          syn_evidence_rate: t.synEvidenceRate,
          completed_ratio_below: 0.5,
          syn_queue_share: SYN_QUEUE_SHARE,
        },
        evidence,
      });
    }
    this.streaks.settle();
    return out;
  }
}
