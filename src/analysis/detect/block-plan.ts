/**
 * What --block does, decided from the alerts: a source with a lasting
 * single-source flood alert is blocked for ttlS; when that time is up it is
 * unblocked, or blocked for another ttlS if its flood held in that interval. Sources
 * on the allow-list (always loopback and this host's addresses) are never
 * blocked, and said so once per alert. At most maxBlocks at a time. Pure:
 * the caller applies the actions to the kernel and prints them.
 */
import { IpBytes, Prefix, parseIp, prefixContains } from '../../net/ip-text';
import { AlertView } from './alerts';
import { AlertKind } from './types';

export type BlockAction =
  | { op: 'block'; address: string; ip: IpBytes; untilNs: number; alertId: string; renewed: boolean }
  | { op: 'unblock'; address: string; ip: IpBytes; reason: 'ttl' | 'exit' }
  | { op: 'allowed'; address: string; alertId: string; prefix: string }
  | { op: 'full'; address: string; alertId: string };

export interface BlockEntry {
  address: string;
  ip: IpBytes;
  sinceNs: number;
  untilNs: number;
  alertId: string;
}

export const BLOCKABLE: ReadonlySet<AlertKind> = new Set(['source_flood']);

export class BlockPlan {
  private readonly blocked = new Map<string, BlockEntry>();
  /** Alerts already told they are allow-listed (or the table is full). */
  private readonly told = new Set<string>();

  constructor(private readonly o: { ttlS: number; allow: Prefix[]; maxBlocks: number }) {}

  step(tNs: number, active: AlertView[]): BlockAction[] {
    const out: BlockAction[] = [];
    const ttl = this.o.ttlS * 1e9;
    const holding = new Map<string, AlertView>();
    // Only alerts whose flood held in this very interval: one winding down (quiet, not yet ended) renews nothing.
    for (const a of active)
      if (BLOCKABLE.has(a.kind) && a.source.address && a.lastSeenNs >= tNs) holding.set(a.source.address, a);
    for (const [addr, b] of this.blocked) {
      const still = holding.get(addr);
      // Renewed while half its time is left: the kernel stops dropping at untilNs by itself, so a
      // renewal due only then would let the flood through until the next step.
      if (still ? b.untilNs - tNs > ttl / 2 : tNs < b.untilNs) continue;
      if (still) {
        b.untilNs = tNs + ttl;
        b.alertId = still.id;
        out.push({ op: 'block', address: addr, ip: b.ip, untilNs: b.untilNs, alertId: still.id, renewed: true });
      } else {
        this.blocked.delete(addr);
        out.push({ op: 'unblock', address: addr, ip: b.ip, reason: 'ttl' });
      }
    }
    for (const [addr, a] of holding) {
      if (this.blocked.has(addr)) continue;
      const ip = parseIp(addr);
      if (!ip) continue;
      const allow = this.o.allow.find((p) => prefixContains(p, ip));
      if (allow) {
        if (!this.told.has(a.id)) out.push({ op: 'allowed', address: addr, alertId: a.id, prefix: allow.text });
        this.told.add(a.id);
        continue;
      }
      if (this.blocked.size >= this.o.maxBlocks) {
        if (!this.told.has(a.id)) out.push({ op: 'full', address: addr, alertId: a.id });
        this.told.add(a.id);
        continue;
      }
      const e: BlockEntry = { address: addr, ip, sinceNs: tNs, untilNs: tNs + ttl, alertId: a.id };
      this.blocked.set(addr, e);
      out.push({ op: 'block', address: addr, ip, untilNs: e.untilNs, alertId: a.id, renewed: false });
    }
    return out;
  }

  /** Unblocks everything (guard is stopping). */
  finish(): BlockAction[] {
    const out: BlockAction[] = [];
    for (const [addr, b] of this.blocked) out.push({ op: 'unblock', address: addr, ip: b.ip, reason: 'exit' });
    this.blocked.clear();
    return out;
  }

  entries(): BlockEntry[] {
    return [...this.blocked.values()];
  }
}
