/**
 * Segments the kernel copied on a listening socket (chunks flagged
 * `listener`: the one that completed the handshake when the bare ACK was
 * lost or TCP_DEFER_ACCEPT dropped it, or a TFO SYN's data) belong to the
 * connection the listener made, whose own records carry its socket cookie.
 * Both have the same network namespace and ends: the listener's chunks wait
 * here under those until a record of the connection comes, and are then
 * handed on as its own, first. Chunks whose connection shows nothing within
 * `waitNs` go on as a connection of their own (a cookie no socket has, above
 * 2^64). Bounded in entries and bytes; what the bounds push out goes on the
 * same way. Pure; never throws.
 */
import { PayloadChunk } from '../events/sock-payload';
import { SockInfo } from '../events/record';

interface Waiting {
  at: bigint;
  /** The cookie these go under if their connection never shows. */
  alone: bigint;
  chunks: PayloadChunk[];
  bytes: number;
}

export interface ListenerJoinStats {
  /** Listener segments handed on to the connection they made. */
  joined: number;
  /** Listener segments whose connection showed nothing: reported on their own. */
  alone: number;
}

const endsKey = (s: SockInfo): string => `${s.netns}|${s.saddr}|${s.sport}|${s.daddr}|${s.dport}`;

export class ListenerJoin {
  readonly stats: ListenerJoinStats = { joined: 0, alone: 0 };
  /** Insertion order is arrival order: the oldest come first. */
  private readonly waiting = new Map<string, Waiting>();
  private bytes = 0;
  private nextAlone = 1n << 64n;
  private readonly waitNs: bigint;
  private readonly maxEntries: number;
  private readonly maxBytes: number;

  constructor(waitNs: bigint, maxEntries = 1024, maxBytes = 4 << 20) {
    this.waitNs = waitNs;
    this.maxEntries = maxEntries;
    this.maxBytes = maxBytes;
  }

  /** The chunks to take now, in order, for this record. */
  push(c: PayloadChunk): PayloadChunk[] {
    if (c.transport !== 'tcp') return [c];
    if (c.listener) return this.stash(c);
    if (this.waiting.size === 0) return [c];
    const k = endsKey(c.sock);
    const w = this.waiting.get(k);
    if (!w) return [c];
    this.drop(k, w);
    this.stats.joined += w.chunks.length;
    return [...w.chunks.map((x) => ({ ...x, conn: c.conn, listener: false })), c];
  }

  /** Chunks that waited `waitNs` for their connection: on their own now. */
  expire(nowNs: bigint): PayloadChunk[] {
    const out: PayloadChunk[] = [];
    for (const [k, w] of this.waiting) {
      if (nowNs - w.at < this.waitNs) break;
      out.push(...this.alone(k, w));
    }
    return out;
  }

  private stash(c: PayloadChunk): PayloadChunk[] {
    const k = endsKey(c.sock);
    const out: PayloadChunk[] = [];
    let w = this.waiting.get(k);
    if (!w) {
      w = { at: c.tsNs, alone: this.nextAlone++, chunks: [], bytes: 0 };
      this.waiting.set(k, w);
    }
    // A copy: the ring's batch is reused once the handler returns.
    w.chunks.push({ ...c, bytes: new Uint8Array(c.bytes) });
    w.bytes += c.bytes.length;
    this.bytes += c.bytes.length;
    while (this.waiting.size > this.maxEntries || this.bytes > this.maxBytes) {
      const first = this.waiting.entries().next().value;
      if (!first) break;
      out.push(...this.alone(first[0], first[1]));
    }
    return out;
  }

  private alone(k: string, w: Waiting): PayloadChunk[] {
    this.drop(k, w);
    this.stats.alone += w.chunks.length;
    return w.chunks.map((x) => ({ ...x, conn: w.alone, listener: false }));
  }

  private drop(k: string, w: Waiting): void {
    this.waiting.delete(k);
    this.bytes -= w.bytes;
  }
}
