/**
 * The life of alerts: an observation with a new (kind, key) starts one; the
 * same key again keeps it going (an update at most every updateS, with the
 * latest figures and the peaks), and quietS (scanQuietS for scans) without
 * it ends it. After a scan ends, the same source raises no new one for
 * suppressS (Zeek suppresses a repeated notice the same way). Ids are
 * `<prefix>-<n>`, the same on an alert's start, updates and end. Pure: the
 * clock is the data's.
 */
import { Thresholds } from './thresholds';
import { AlertKind, Evidence, Observation, SEVERITY_RANK, Severity, SourceInfo, Target } from './types';

export interface AlertView {
  id: string;
  kind: AlertKind;
  traffic: string;
  key: string;
  severity: Severity;
  startNs: number;
  /** The last interval the condition held. */
  lastSeenNs: number;
  target: Target;
  source: SourceInfo;
  /** The latest interval's figures, and the highest of each since start. */
  figures: Record<string, number | null>;
  peak: Record<string, number>;
  thresholds: Record<string, number>;
  /** Kernel counters that moved while it lasted, summed. */
  evidence: Evidence[];
  /** Intervals the condition held. */
  intervals: number;
}

export type AlertEventKind = 'start' | 'update' | 'end';

export interface AlertEvent {
  event: AlertEventKind;
  tNs: number;
  alert: AlertView;
  /** end: 'quiet' (the condition stopped holding) or 'stopped' (guard stopped). */
  reason?: 'quiet' | 'stopped';
}

interface Live extends AlertView {
  lastEmitNs: number;
  ev: Map<string, Evidence>;
}

const SUPPRESSED_KINDS: ReadonlySet<AlertKind> = new Set(['port_scan']);

export class AlertBook {
  private readonly live = new Map<string, Live>();
  private readonly ended = new Map<string, number>();
  private seq = 0;
  /** Observations that would have started an alert but were suppressed. */
  suppressed = 0;

  constructor(
    private readonly t: Pick<Thresholds, 'quietS' | 'scanQuietS' | 'updateS' | 'suppressS'>,
    private readonly idPrefix: string,
  ) {}

  private quietNs(kind: AlertKind): number {
    return (kind === 'port_scan' ? this.t.scanQuietS : this.t.quietS) * 1e9;
  }

  step(tNs: number, observations: Observation[]): AlertEvent[] {
    const out: AlertEvent[] = [];
    const seen = new Set<string>();
    for (const o of observations) {
      const k = `${o.kind}|${o.key}`;
      seen.add(k);
      let a = this.live.get(k);
      if (!a) {
        const endedAt = this.ended.get(k);
        if (SUPPRESSED_KINDS.has(o.kind) && endedAt !== undefined && tNs - endedAt < this.t.suppressS * 1e9) {
          this.suppressed++;
          continue;
        }
        a = {
          id: `${this.idPrefix}-${++this.seq}`,
          kind: o.kind,
          traffic: o.traffic,
          key: o.key,
          severity: o.severity,
          startNs: tNs,
          lastSeenNs: tNs,
          lastEmitNs: tNs,
          target: o.target,
          source: o.source,
          figures: o.figures,
          peak: {},
          thresholds: o.thresholds,
          evidence: [],
          ev: new Map(),
          intervals: 0,
        };
        this.live.set(k, a);
        absorb(a, o, tNs);
        out.push({ event: 'start', tNs, alert: view(a) });
        continue;
      }
      absorb(a, o, tNs);
      if (tNs - a.lastEmitNs >= this.t.updateS * 1e9 - 1e6) {
        a.lastEmitNs = tNs;
        out.push({ event: 'update', tNs, alert: view(a) });
      }
    }
    for (const [k, a] of this.live) {
      if (seen.has(k) || tNs - a.lastSeenNs < this.quietNs(a.kind)) continue;
      this.live.delete(k);
      this.ended.set(k, tNs);
      out.push({ event: 'end', tNs, alert: view(a), reason: 'quiet' });
    }
    for (const [k, at] of this.ended) if (tNs - at >= this.t.suppressS * 1e9) this.ended.delete(k);
    return out;
  }

  /** Ends every alert still going (guard is stopping). */
  finish(tNs: number): AlertEvent[] {
    const out: AlertEvent[] = [];
    for (const a of this.live.values()) out.push({ event: 'end', tNs, alert: view(a), reason: 'stopped' });
    this.live.clear();
    return out;
  }

  active(): AlertView[] {
    return [...this.live.values()].map(view);
  }
}

function absorb(a: Live, o: Observation, tNs: number): void {
  a.lastSeenNs = tNs;
  a.intervals++;
  if (SEVERITY_RANK[o.severity] > SEVERITY_RANK[a.severity]) a.severity = o.severity;
  a.traffic = o.traffic;
  a.target = o.target;
  a.source = o.source;
  a.figures = o.figures;
  a.thresholds = o.thresholds;
  for (const [name, v] of Object.entries(o.figures))
    if (typeof v === 'number' && (a.peak[name] === undefined || v > a.peak[name]!)) a.peak[name] = v;
  for (const e of o.evidence) {
    const k = `${e.netns ?? ''}|${e.counter}`;
    const had = a.ev.get(k);
    if (had) had.delta += e.delta;
    else a.ev.set(k, { ...e });
  }
  a.evidence = [...a.ev.values()].sort((x, y) => y.delta - x.delta);
}

function view(a: Live): AlertView {
  const { lastEmitNs: _e, ev: _v, ...rest } = a;
  void _e;
  void _v;
  return {
    ...rest,
    figures: { ...a.figures },
    peak: { ...a.peak },
    evidence: a.evidence.map((e) => ({ ...e })),
    source: { ...a.source, top: a.source.top.map((x) => ({ ...x })) },
    target: { ...a.target },
  };
}
