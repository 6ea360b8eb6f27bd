/**
 * `wirelens guard` lines: one per alert event (start, update, end) and per
 * block action, as text or as one JSON object with stable snake_case fields.
 * The same plain object is what the state file holds for `wirelens top`.
 */
import { AlertEvent, AlertView } from '../analysis/detect/alerts';
import { BlockAction } from '../analysis/detect/block-plan';
import { formatEndpoint } from '../text/address';
import { Clock } from './clock';
import { LineField, fitFields } from './columns';
import { formatCount } from './units';

/** An alert as a plain object (JSON field names). */
export function alertObject(a: AlertView, clock: Clock): Record<string, unknown> {
  return {
    id: a.id,
    kind: a.kind,
    traffic: a.traffic,
    severity: a.severity,
    started_at: clock.iso(Math.round(a.startNs)),
    last_seen_at: clock.iso(Math.round(a.lastSeenNs)),
    duration_s: Math.round((a.lastSeenNs - a.startNs) / 1e6) / 1e3,
    target: { address: a.target.address, port: a.target.port, protocol: a.target.protocol, netns: a.target.netns },
    source: {
      address: a.source.address,
      distinct: a.source.distinct,
      top: a.source.top.map((t) => ({ address: t.address, pps: t.pps, share: t.share })),
    },
    figures: a.figures,
    peak: a.peak,
    thresholds: a.thresholds,
    evidence: a.evidence.map((e) => ({ counter: e.counter, delta: e.delta, netns: e.netns })),
  };
}

export function alertJson(ev: AlertEvent, clock: Clock): string {
  return JSON.stringify({
    ts: clock.iso(Math.round(ev.tNs)),
    event: ev.event,
    ...alertObject(ev.alert, clock),
    ...(ev.reason ? { reason: ev.reason } : {}),
  });
}

function whereText(address: string | null, port: number | null): string {
  return address
    ? port !== null
      ? formatEndpoint(address, port)
      : address
    : port !== null
      ? `port ${port}`
      : 'this host';
}

/** The sources: "10.0.0.1", "~20k sources" and, apart, "(top 10.0.0.1 60%, ...)". */
function sourceTexts(a: AlertView): [string, string] {
  const s = a.source;
  if (s.address) return [s.address, ''];
  const top = s.top
    .slice(0, 2)
    .map((x) => `${x.address} ${(x.share * 100).toFixed(x.share < 0.1 ? 1 : 0)}%`)
    .join(', ');
  const n = s.distinct === null ? 'many sources' : `~${formatCount(s.distinct)} sources`;
  return [n, top ? `(top ${top})` : ''];
}

const FIGURE_LABEL: Record<string, [string, string]> = {
  syn_per_s: ['syn', '/s'],
  completed_ratio: ['completed', '%'],
  synack_retrans_per_s: ['synack-retrans', '/s'],
  pps: ['', 'pkt/s'],
  baseline_pps: ['baseline', 'pkt/s'],
  udp_per_s: ['udp', '/s'],
  icmp_per_s: ['icmp', '/s'],
  blocked_per_s: ['blocked', '/s'],
  ports: ['', 'ports'],
  refused_ports: ['', 'refused'],
  unanswered_ports: ['', 'unanswered'],
  window_s: ['in', 's'],
};

/** Figures not worth a word when 0 (unless their peak is shown). */
const ZERO_HIDDEN = new Set(['blocked_per_s', 'synack_retrans_per_s']);

/** A figure's value with its unit: "48.2k/s", "0%", "12.0k pkt/s". */
function valueText(label: [string, string], v: number): string {
  const value = label[1] === '%' ? `${Math.round(v * 100)}` : formatCount(v);
  return `${value}${label[1] === '%' || label[1].startsWith('/') ? label[1] : ` ${label[1]}`}`;
}

/**
 * The figures that tripped it, short, each with its peak where the peak was
 * higher (rates, on update and end): [["syn 107/s", "(peak 1.49k/s)"], ["completed 0%", ""]].
 */
function figureTexts(a: AlertView, withPeak: boolean): [string, string][] {
  const f =
    a.kind === 'source_flood'
      ? pick(a.figures, [
          `${a.traffic === 'packets' ? 'pps' : `${a.traffic}_per_s`}`,
          'completed_ratio',
          'blocked_per_s',
        ])
      : a.figures;
  const parts: [string, string][] = [];
  // A scan's ports split by kind only when it has both (the kind says which otherwise).
  const split = (f.refused_ports ?? 0) > 0 && (f.unanswered_ports ?? 0) > 0;
  for (const [k, v] of Object.entries(f)) {
    if ((k === 'refused_ports' || k === 'unanswered_ports') && !split) continue;
    const label = FIGURE_LABEL[k];
    if (!label || v === null || v === undefined) continue;
    const peak = a.peak[k];
    const rate = label[1].startsWith('/') || label[1] === 'pkt/s';
    const peakShown = withPeak && rate && peak !== undefined && formatCount(peak) !== formatCount(v);
    if (ZERO_HIDDEN.has(k) && v === 0 && !peakShown) continue;
    const text = `${label[0] ? `${label[0]} ` : ''}${valueText(label, v)}`;
    parts.push([text, peakShown ? `(peak ${valueText(label, peak)})` : '']);
  }
  // The listener's queues against their limit: "half-open 8/8 accept 0/8".
  const backlog = f.backlog;
  if (backlog !== null && backlog !== undefined)
    parts.push([
      `half-open ${formatCount(f.half_open ?? 0)}/${backlog} accept ${formatCount(f.accept_queue ?? 0)}/${backlog}`,
      '',
    ]);
  return parts;
}

function pick(o: Record<string, number | null>, keys: string[]): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const k of keys) if (k in o) out[k] = o[k]!;
  return out;
}

/**
 * An alert event as one line of text: what, where and from whom first, then
 * the figures (with their peaks on update and end), the duration and the
 * kernel counters that moved. `width` (a terminal's) leaves out what fits
 * least, marked `…` (evidence from its last entry, the namespace, peaks, the
 * duration, the id and the figures, in that order); undefined keeps it all.
 * "12:00:01 start  a3f2-1 medium syn_flood 10.0.0.2:80/tcp netns 4026531840 from ~20k sources syn 20k/s completed 0% | TcpExtSyncookiesSent +19k"
 */
export function alertLine(ev: AlertEvent, clock: Clock, width?: number): string {
  const a = ev.alert;
  const time = clock.timeOfDay(Math.round(ev.tNs)).slice(0, 8);
  const kind =
    a.kind === 'source_flood' || (a.kind === 'port_scan' && a.traffic === 'unanswered')
      ? `${a.kind}(${a.traffic})`
      : a.kind;
  const dur =
    ev.event === 'start'
      ? ''
      : `after ${Math.round((a.lastSeenNs - a.startNs) / 1e9)}s${ev.reason === 'stopped' ? ' (guard stopped)' : ''}`;
  const [from, top] = sourceTexts(a);
  const fields: LineField[] = [
    { text: time, rank: 0 },
    { text: ev.event.padEnd(6), rank: 0 },
    { text: a.id, rank: 2 },
    { text: a.severity.padEnd(6), rank: 0 },
    { text: kind, rank: 0 },
    { text: `${whereText(a.target.address, a.target.port)}/${a.target.protocol}`, rank: 0, cut: 'middle' },
    { text: `netns ${a.target.netns}`, rank: 5 },
    { text: 'from', rank: 0 },
    { text: from, rank: 0, cut: 'middle' },
    { text: top, rank: 3 },
  ];
  figureTexts(a, ev.event !== 'start').forEach(([f, peak], i) => {
    fields.push({ text: f, rank: i === 0 ? 1 : 2 }, { text: peak, rank: 4 });
  });
  fields.push({ text: dur, rank: 3 });
  if (a.evidence.length > 0) {
    fields.push({ text: '|', rank: 6 });
    a.evidence.forEach((e, i) =>
      fields.push({ text: `${e.counter} +${formatCount(e.delta)}${i < a.evidence.length - 1 ? ',' : ''}`, rank: 6 }),
    );
  }
  return fitFields(fields, width);
}

export function blockObject(b: BlockAction, clock: Clock, nowNs: number): Record<string, unknown> {
  const ts = clock.iso(Math.round(nowNs));
  switch (b.op) {
    case 'block':
      return {
        ts,
        event: 'block',
        address: b.address,
        until: clock.iso(Math.round(b.untilNs)),
        ttl_s: Math.round((b.untilNs - nowNs) / 1e9),
        alert_id: b.alertId,
        renewed: b.renewed,
      };
    case 'unblock':
      return { ts, event: 'unblock', address: b.address, reason: b.reason };
    case 'allowed':
      return { ts, event: 'not_blocked', address: b.address, alert_id: b.alertId, why: `allow-list ${b.prefix}` };
    case 'full':
      return { ts, event: 'not_blocked', address: b.address, alert_id: b.alertId, why: 'block table full' };
  }
}

export function blockLine(b: BlockAction, clock: Clock, nowNs: number): string {
  const time = clock.timeOfDay(Math.round(nowNs)).slice(0, 8);
  switch (b.op) {
    case 'block':
      return `${time} ${b.renewed ? 'block+' : 'block '} ${b.alertId} dropping ${b.address} at ingress for ${Math.round((b.untilNs - nowNs) / 1e9)}s${b.renewed ? ' more (its flood goes on)' : ''}`;
    case 'unblock':
      return `${time} unblock ${b.address} (${b.reason === 'ttl' ? 'block time over' : 'guard stopped'})`;
    case 'allowed':
      return `${time} noblock ${b.alertId} ${b.address} is on the allow-list (${b.prefix}): not blocked`;
    case 'full':
      return `${time} noblock ${b.alertId} ${b.address}: the block table is full: not blocked`;
  }
}

/** A running guard's alert as the state file holds it (alertObject's fields). */
export interface PublishedAlert {
  id?: string;
  kind?: string;
  traffic?: string;
  severity?: string;
  duration_s?: number;
  target?: { address?: string | null; port?: number | null; protocol?: string; netns?: number };
  source?: { address?: string | null; distinct?: number | null };
}

/**
 * One line per active alert of the running guards, for `wirelens top`'s view,
 * in at most `width` columns (fitFields: the guard's pid and the alert's id
 * go first, then the duration; what, where and from whom stay).
 */
export function guardAlertLines(guards: { pid: number; alerts: PublishedAlert[] }[], width?: number): string[] {
  const out: string[] = [];
  for (const g of guards)
    for (const a of g.alerts) {
      const t = a.target ?? {};
      const from = a.source?.address
        ? a.source.address
        : a.source?.distinct !== null && a.source?.distinct !== undefined
          ? `~${formatCount(a.source.distinct)} sources`
          : '';
      const kind = a.kind === 'source_flood' ? `source_flood(${a.traffic})` : a.kind;
      out.push(
        fitFields(
          [
            { text: 'ALERT', rank: 0 },
            { text: a.severity ?? '?', rank: 0 },
            { text: kind ?? '?', rank: 0 },
            { text: `${whereText(t.address ?? null, t.port ?? null)}/${t.protocol ?? '?'}`, rank: 0, cut: 'middle' },
            { text: from ? 'from' : '', rank: 0 },
            { text: from, rank: 0, cut: 'middle' },
            { text: `for ${Math.round(a.duration_s ?? 0)}s`, rank: 1 },
            { text: `(guard ${g.pid}, ${a.id})`, rank: 2 },
          ],
          width,
        ),
      );
    }
  return out;
}
