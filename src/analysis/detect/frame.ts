/**
 * One interval's change, from two GuardSamples read in a row: counter
 * deltas per protocol, port, source and listener, distinct sources, drops by
 * reason and each namespace's kernel counters. A counter that went backwards
 * (an LRU entry evicted and made again, a namespace's process gone) counts
 * from zero. Pure.
 */
import { GUARD_PROTOS, GuardCounts, GuardProto, GuardSample, ListenCounts, ZERO_GUARD_COUNTS } from '../../model/guard';
import { hllEstimate } from './sketch-math';
import { PortDelta, SourceDelta } from './types';

export interface ListenDelta {
  netns: number;
  port: number;
  est: number;
  synackRetrans: number;
  rstSent: number;
}

export interface GuardFrame {
  tNs: number;
  /** Seconds the interval lasted. */
  dtS: number;
  protos: Map<GuardProto, PortDelta>;
  ports: PortDelta[];
  sources: SourceDelta[];
  listen: ListenDelta[];
  distinct: { all: number; syn: number; udp: number; icmp: number } | null;
  /** Per network namespace: drops by reason that moved. */
  drops: Map<number, Map<string, number>>;
  /** Per network namespace: counters that moved, by nstat name. */
  netstat: Map<number, Map<string, number>>;
  ownNetns: number;
  /** The current sample itself (scan bitmaps are read from it), and the one before. */
  sample: GuardSample;
  prev: GuardSample;
}

const d = (a: number, b: number | undefined): number => (b === undefined ? a : a >= b ? a - b : a);

export function countsDelta(cur: GuardCounts, prev: GuardCounts | undefined): GuardCounts {
  const out = { ...ZERO_GUARD_COUNTS };
  for (const k of Object.keys(out) as (keyof GuardCounts)[]) out[k] = d(cur[k], prev?.[k]);
  return out;
}

function listenDelta(cur: ListenCounts, prev: ListenCounts | undefined): ListenDelta {
  return {
    netns: cur.netns,
    port: cur.port,
    est: d(cur.est, prev?.est),
    synackRetrans: d(cur.synackRetrans, prev?.synackRetrans),
    rstSent: d(cur.rstSent, prev?.rstSent),
  };
}

export function buildFrame(prev: GuardSample, cur: GuardSample): GuardFrame {
  const protos = new Map<GuardProto, PortDelta>();
  for (const p of GUARD_PROTOS) {
    const c = cur.protos.get(p);
    if (c) protos.set(p, { proto: p, port: 0, daddr: c.daddr, d: countsDelta(c.c, prev.protos.get(p)?.c) });
  }
  const ports: PortDelta[] = [];
  for (const [k, c] of cur.ports) {
    const dd = countsDelta(c.c, prev.ports.get(k)?.c);
    if (dd.pkts + dd.synack + dd.rstOut + dd.unreachOut + dd.est > 0)
      ports.push({ proto: c.proto, port: c.port, daddr: c.daddr, d: dd });
  }
  const sources: SourceDelta[] = [];
  for (const [a, c] of cur.sources) {
    const dd = countsDelta(c, prev.sources.get(a));
    if (dd.pkts + dd.rstOut + dd.unreachOut + dd.est > 0) sources.push({ address: a, d: dd });
  }
  const listen: ListenDelta[] = [];
  for (const [k, l] of cur.listen) {
    const ld = listenDelta(l, prev.listen.get(k));
    if (ld.est + ld.synackRetrans + ld.rstSent > 0) listen.push(ld);
  }
  const drops = new Map<number, Map<string, number>>();
  for (const [ns, per] of cur.drops) {
    const before = prev.drops.get(ns);
    const moved = new Map<string, number>();
    for (const [r, n] of per) {
      const x = d(n, before?.get(r));
      if (x > 0) moved.set(r, x);
    }
    if (moved.size > 0) drops.set(ns, moved);
  }
  const netstat = new Map<number, Map<string, number>>();
  for (const [ns, c] of cur.netstat) {
    const before = prev.netstat.get(ns);
    if (!before) continue; // first read of this namespace: no change known yet
    const moved = new Map<string, number>();
    for (const [name, v] of c) {
      const x = d(v, before.get(name));
      if (x > 0) moved.set(name, x);
    }
    netstat.set(ns, moved);
  }
  const distinct = cur.distinct
    ? {
        all: hllEstimate(cur.distinct.all),
        syn: hllEstimate(cur.distinct.syn),
        udp: hllEstimate(cur.distinct.udp),
        icmp: hllEstimate(cur.distinct.icmp),
      }
    : null;
  return {
    tNs: cur.tNs,
    dtS: Math.max((cur.tNs - prev.tNs) / 1e9, 1e-3),
    protos,
    ports,
    sources,
    listen,
    distinct,
    drops,
    netstat,
    ownNetns: cur.ownNetns,
    sample: cur,
    prev,
  };
}
