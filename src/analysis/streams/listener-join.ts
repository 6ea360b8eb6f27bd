/**
 * Segments a source saw on a listening socket (Segment.listener: the one
 * that completed the handshake when the bare ACK was lost or
 * TCP_DEFER_ACCEPT dropped it, or a TFO SYN's data) belong to the connection
 * the listener made, whose own segments carry its id. Both have the same
 * network namespace and ends: the listener's segments wait here under those
 * until a segment of the connection comes, and are then handed on as its
 * own, first. Segments whose connection shows nothing within `waitNs` go on
 * as a connection of their own (a negative id no socket has). Bounded in
 * entries and bytes; what the bounds push out goes on the same way. Pure;
 * never throws.
 */
import type { FlowKey } from '../../model/flow';
import type { Segment } from '../../model/segment';

interface Waiting {
  atNs: number;
  /** The id these go under if their connection never shows. */
  alone: number;
  segs: Segment[];
  bytes: number;
}

export interface ListenerJoinStats {
  /** Listener segments handed on to the connection they made. */
  joined: number;
  /** Listener segments whose connection showed nothing: reported on their own. */
  alone: number;
}

const endsKey = (k: FlowKey, netns: number | undefined): string =>
  `${netns ?? k.netns ?? ''}|${k.clientAddr}|${k.clientPort}|${k.serverAddr}|${k.serverPort}`;

export class ListenerJoin {
  readonly stats: ListenerJoinStats = { joined: 0, alone: 0 };
  /** Insertion order is arrival order: the oldest come first. */
  private readonly waiting = new Map<string, Waiting>();
  private bytes = 0;
  private nextAlone = -1;
  private readonly waitNs: number;
  private readonly maxEntries: number;
  private readonly maxBytes: number;

  constructor(waitNs: number, maxEntries = 1024, maxBytes = 4 << 20) {
    this.waitNs = waitNs;
    this.maxEntries = maxEntries;
    this.maxBytes = maxBytes;
  }

  /** The segments to take now, in order, for this one. */
  push(s: Segment): Segment[] {
    if (s.listener) return this.stash(s);
    if (this.waiting.size === 0) return [s];
    const k = endsKey(s.key, s.netns);
    const w = this.waiting.get(k);
    if (!w) return [s];
    this.drop(k, w);
    this.stats.joined += w.segs.length;
    return [...w.segs.map((x) => ({ ...x, conn: s.conn, listener: false })), s];
  }

  /** Segments that waited `waitNs` for their connection: on their own now. */
  expire(nowNs: number): Segment[] {
    const out: Segment[] = [];
    for (const [k, w] of this.waiting) {
      if (nowNs - w.atNs < this.waitNs) break;
      out.push(...this.alone(k, w));
    }
    return out;
  }

  private stash(s: Segment): Segment[] {
    const k = endsKey(s.key, s.netns);
    const out: Segment[] = [];
    let w = this.waiting.get(k);
    if (!w) {
      w = { atNs: s.tsNs, alone: this.nextAlone--, segs: [], bytes: 0 };
      this.waiting.set(k, w);
    }
    // A copy: the source's buffer is reused once the call returns.
    w.segs.push({ ...s, bytes: new Uint8Array(s.bytes) });
    w.bytes += s.bytes.length;
    this.bytes += s.bytes.length;
    while (this.waiting.size > this.maxEntries || this.bytes > this.maxBytes) {
      const first = this.waiting.entries().next().value;
      if (!first) break;
      out.push(...this.alone(first[0], first[1]));
    }
    return out;
  }

  private alone(k: string, w: Waiting): Segment[] {
    this.drop(k, w);
    this.stats.alone += w.segs.length;
    return w.segs.map((x) => ({ ...x, conn: w.alone, listener: false }));
  }

  private drop(k: string, w: Waiting): void {
    this.waiting.delete(k);
    this.bytes -= w.bytes;
  }
}
