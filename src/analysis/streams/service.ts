/**
 * The one reassembly service every stream analyzer (dns, tls) stands on:
 * Segments and Datagrams in, whatever the source (kernel records through
 * src/sources/kernel, capture files through src/net/packet-streams), and
 * per view (one end's socket, see views.ts) each direction's bytes in
 * stream order, with one set of rules for the rest:
 *
 *  - order: each direction is put back in order by its stream offsets
 *    (repeats cut, segments ahead of a hole held up to `maxHeld` bytes);
 *    a hole the source declares never to fill (Segment.gap), or more held
 *    than the bound, breaks the direction;
 *  - ends: a FIN, an RST (its sender's or the peer's), or the source's copy
 *    limit ends a direction at its place, once everything before it is in
 *    (a FIN ahead of a hole waits for the hole, at most `endGraceNs`);
 *  - one byte budget over all views (bytes held out of order, and what the
 *    consumer holds): past it the oldest holders are pushed out; so are the
 *    least recently used views past `maxViews`, and views idle `idleNs`;
 *  - a view pushed out may leave each direction's place (offset and the
 *    consumer's mark), so a long-lived connection is taken up where it was
 *    left; a view or direction given up is remembered as such (bounded),
 *    so later segments do not start it over;
 *  - segments a listener saw join their connection first (ListenerJoin);
 *  - connections first seen mid-stream are not taken (the kernel does not
 *    copy those either); with `classify` (capture files, where nothing was
 *    chosen in the kernel), a connection is taken only when its first
 *    payload passes the consumer's test, as sock_payload.bpf.c judges it.
 *
 * Time is the data's (segments' times, tick() from the source). Pure;
 * never throws on bytes.
 */
import type { FlowKey } from '../../model/flow';
import type { Proc } from '../../model/packet';
import type { Datagram, Segment } from '../../model/segment';
import type { SockInfo } from '../../events/record';
import { ListenerJoin } from './listener-join';
import { StreamReassembler } from './reassembler';
import { End, Side, procOf, sideOf, sockOf, viewEnds, viewKey } from './views';

export type { End, Side } from './views';

/** When and by whom: the data's time (ns) of the segment that brought the bytes, and its process for this view. */
export interface At {
  tsNs: number;
  proc: Proc | undefined;
}

/** Where a direction put aside can be taken up again: its next offset and the consumer's own mark. */
export interface Place<M> {
  next: number;
  mark: M;
}

export interface StreamDir {
  readonly side: Side;
  readonly reasm: StreamReassembler;
  /** Where the direction ends (FIN, RST, the source's copy limit), once known. */
  endAt: number | undefined;
  /** When the end became known. */
  endNs: number | undefined;
  /** The end is the source's copy limit; `cut`: reached inside a packet longer than it copies of one. */
  limited: boolean;
  cut: boolean;
  /** open: bytes wanted; done: the consumer needs no more; closed: given up or finished, ignored from now on. */
  state: 'open' | 'done' | 'closed';
  /** The last process seen on it. */
  proc: Proc | undefined;
}

export interface StreamView<S> {
  readonly key: string;
  /** The connection's (socket's) id, as text: part of pairing keys. */
  readonly conn: string;
  readonly end: End;
  sock: SockInfo;
  egress: StreamDir | undefined;
  ingress: StreamDir | undefined;
  /** An RST came either way: neither direction says more. */
  reset: boolean;
  readonly firstNs: number;
  lastNs: number;
  /** The consumer's state. */
  state: S;
}

/** A datagram as one view's socket saw it. */
export interface DatagramView {
  key: string;
  conn: string;
  sock: SockInfo;
  side: Side;
  transport: 'udp';
  /** The datagram's bytes (a view: copy to keep). */
  bytes: Uint8Array;
  len: number;
}

export interface StreamConsumer<S, M> {
  /** A new view's state. */
  open(v: StreamView<S>, at: At): S;
  /** A direction begins, with this segment (`mark`: where it was put aside, when taken up again). */
  openDir(v: StreamView<S>, d: StreamDir, mark: M | undefined, at: At): void;
  /**
   * A segment of direction `d` was taken: `pieces` are the bytes now in
   * order (views: use them now), `broke` that the direction just broke (a
   * hole that will not fill), `ended` that its end is in, all before it.
   */
  segment(v: StreamView<S>, d: StreamDir, pieces: Uint8Array[], broke: boolean, ended: boolean, at: At): void;
  /** A datagram, per view. */
  datagram?(g: DatagramView, at: At): void;
  /** Bytes the consumer holds for a view (counted into the budget). */
  buffered(v: StreamView<S>): number;
  /**
   * The view is pushed out (idle, or over a cap): each direction's mark to
   * take it up again, or null when it cannot be (or nothing at all: the
   * view is given up).
   */
  evict(v: StreamView<S>, why: 'idle' | 'evicted', nowNs: number): Partial<Record<Side, M | null>> | null;
  /** A direction whose end came ahead of a hole waited `endGraceNs` for it. */
  graceOver?(v: StreamView<S>, d: StreamDir, nowNs: number): void;
}

export interface StreamServiceOptions {
  /** Views tracked at once (least recently used pushed out beyond). */
  maxViews: number;
  /** Bytes all views may hold together (ahead of holes, and the consumer's). */
  maxBytes: number;
  /** Bytes a direction may hold ahead of a hole. */
  maxHeld: number;
  /** A view with no segment this long is pushed out ('idle'); undefined: never. */
  idleNs?: number;
  /** A direction whose end came ahead of a hole waits this long for it; undefined: until the view goes. */
  endGraceNs?: number;
  /** Views and directions given up or put aside, remembered. */
  maxRetired: number;
  /** How long a listener's segments wait for their connection. */
  joinWaitNs: number;
  /** A bare FIN or RST begins a direction not seen yet of a view that exists (else it is ignored). */
  startOnEnd?: boolean;
  /** Capture files: whether a connection is the consumer's, from its first payload and its ends. */
  classify?: (first: Uint8Array, key: FlowKey) => boolean;
}

export interface StreamServiceStats {
  /** Segments of connections first seen mid-stream: not taken. */
  midStream: number;
  /** Connections judged not the consumer's by their first payload (or first seen past their first byte): not taken. */
  notTaken: number;
  /** Places and given-up views forgotten over their cap: such a direction, heard again, starts over. */
  forgotten: number;
}

type Retired<M> = Partial<Record<Side, Place<M> | null>>;
const DEAD = Object.freeze({ egress: null, ingress: null }) as Retired<never>;
const NO_PIECES: Uint8Array[] = [];
/** Connection verdicts remembered (files). */
const MAX_VERDICTS = 65536;

export class StreamService<S, M = never> {
  readonly stats: StreamServiceStats = { midStream: 0, notTaken: 0, forgotten: 0 };
  readonly join: ListenerJoin;
  /** Least recently used first. */
  private readonly views = new Map<string, StreamView<S>>();
  /** Views holding bytes, in the order they began to: the oldest are pushed out first. */
  private readonly holding = new Map<string, StreamView<S>>();
  private readonly held = new Map<StreamView<S>, number>();
  /** Directions whose end is known and not yet in, in the order it became known. */
  private readonly ending = new Map<StreamDir, StreamView<S>>();
  /** Oldest first. */
  private readonly retired = new Map<string, Retired<M>>();
  private readonly verdicts = new Map<number, boolean>();
  /** Places of the directions of views taken up again, until each direction begins. */
  private readonly places = new WeakMap<StreamView<S>, Retired<M>>();
  private bytes = 0;

  constructor(
    private readonly consumer: StreamConsumer<S, M>,
    private readonly o: StreamServiceOptions,
  ) {
    this.join = new ListenerJoin(o.joinWaitNs);
  }

  /** Bytes held now, all views together. */
  get heldBytes(): number {
    return this.bytes;
  }

  /** Views tracked now. */
  get size(): number {
    return this.views.size;
  }

  /** All views tracked now, least recently used first. */
  active(): IterableIterator<StreamView<S>> {
    return this.views.values();
  }

  push(x: Segment | Datagram): void {
    if (x.kind === 'datagram') {
      this.datagram(x);
      return;
    }
    for (const s of this.join.push(x)) this.segment(s);
  }

  /** The data's clock moved on: listener segments on their own, ends that waited too long, idle views. */
  tick(nowNs: number): void {
    for (const s of this.join.expire(nowNs)) this.segment(s);
    if (this.o.endGraceNs !== undefined) {
      for (const [d, v] of this.ending) {
        if (nowNs - d.endNs! < this.o.endGraceNs) break;
        this.ending.delete(d);
        if (d.state !== 'closed') this.consumer.graceOver?.(v, d, nowNs);
      }
    }
    if (this.o.idleNs !== undefined) {
      for (const v of this.views.values()) {
        if (nowNs - v.lastNs < this.o.idleNs) break;
        this.evict(v, 'idle', nowNs);
      }
    }
  }

  /** Whether a direction has said all it will: its end in, the view reset, or nothing more wanted. */
  ended(v: StreamView<S>, d: StreamDir | undefined): boolean {
    if (v.reset) return true;
    if (d === undefined) return false;
    return d.state === 'done' || (d.endAt !== undefined && d.reasm.delivered >= d.endAt);
  }

  /** The consumer needs no more of a direction: held bytes dropped, bytes ignored (as the kernel's copy limit). */
  done(v: StreamView<S>, d: StreamDir): void {
    if (d.state !== 'open') return;
    d.state = 'done';
    d.reasm.break();
    this.ending.delete(d);
    this.account(v);
  }

  /** A direction is finished or given up: ignored from now on. The view goes once no direction is left open. */
  close(v: StreamView<S>, d: StreamDir): void {
    d.state = 'closed';
    d.reasm.break();
    this.ending.delete(d);
    if ((v.egress?.state ?? 'closed') === 'closed' && (v.ingress?.state ?? 'closed') === 'closed') {
      this.remove(v);
      this.retire(v.key, { egress: v.egress ? null : undefined, ingress: v.ingress ? null : undefined });
    }
  }

  /** The view is decided: dropped, and later segments of it ignored. */
  settle(v: StreamView<S>): void {
    this.remove(v);
    this.retire(v.key, DEAD);
  }

  private datagram(g: Datagram): void {
    const take = this.consumer.datagram;
    if (take === undefined) return;
    const tsNs = g.tsNs;
    for (const end of viewEnds(g)) {
      const key = viewKey(g, end);
      take.call(
        this.consumer,
        {
          key,
          conn: g.conn !== undefined ? String(g.conn) : key,
          sock: sockOf(g, end),
          side: sideOf(g, end),
          transport: 'udp',
          bytes: g.bytes,
          len: g.len,
        },
        { tsNs, proc: procOf(g, end) },
      );
    }
  }

  private segment(s: Segment): void {
    if (s.midStream) {
      this.stats.midStream++;
      return;
    }
    if (this.o.classify !== undefined && !this.judged(s)) return;
    const tsNs = s.tsNs;
    for (const end of viewEnds(s)) this.take(s, end, { tsNs, proc: procOf(s, end) });
  }

  /** Files: whether the connection is the consumer's (judged once, by its first payload). */
  private judged(s: Segment): boolean {
    let v = this.verdicts.get(s.conn);
    if (v === undefined) {
      if (s.bytes.length === 0) return false;
      // Only from its first byte, as the kernel copies.
      v = s.offset === 0 && s.gap === 0 && this.o.classify!(s.bytes, s.key);
      if (!v) this.stats.notTaken++;
      if (this.verdicts.size >= MAX_VERDICTS) {
        const first = this.verdicts.keys().next().value;
        if (first !== undefined) this.verdicts.delete(first);
      }
    } else {
      this.verdicts.delete(s.conn);
    }
    this.verdicts.set(s.conn, v);
    return v;
  }

  private take(s: Segment, end: End, at: At): void {
    const key = viewKey(s, end);
    const limitEnd = s.end === 'limit' || s.end === 'cut';
    let v = this.views.get(key);
    if (v !== undefined) {
      this.views.delete(key);
      this.views.set(key, v);
    } else {
      v = this.newView(s, key, end, limitEnd, at);
      if (v === undefined) return;
    }
    v.lastNs = at.tsNs;
    const side = sideOf(s, end);
    const ends = s.fin || s.rst || s.end === 'reset' || limitEnd;
    if (s.rst || s.end === 'reset') v.reset = true;
    let d = v[side];
    if (d === undefined) {
      const place = this.places.get(v)?.[side];
      if (place === null) {
        d = newDir(side, 0, this.o.maxHeld);
        d.state = 'closed';
        v[side] = d;
        return;
      }
      if (s.bytes.length === 0 && !limitEnd && !this.o.startOnEnd) return;
      d = newDir(side, place?.next ?? 0, this.o.maxHeld);
      v[side] = d;
      this.consumer.openDir(v, d, place?.mark, at);
    }
    if (at.proc !== undefined) d.proc = at.proc;
    if (d.state === 'closed') return;
    if (ends) {
      const e = s.offset + s.len;
      if (d.endAt === undefined || e < d.endAt) d.endAt = e;
      d.limited ||= limitEnd;
      d.cut ||= s.end === 'cut';
      if (d.endNs === undefined) {
        d.endNs = at.tsNs;
        if (d.state === 'open') this.ending.set(d, v);
      }
    }
    let pieces = NO_PIECES;
    let broke = false;
    if (d.state === 'open') {
      const was = d.reasm.broken;
      // A hole the source says will not fill (the capture missed those bytes).
      if (s.gap > 0 && s.offset > d.reasm.delivered && !was) d.reasm.break();
      else pieces = d.reasm.push(s.offset, s.bytes);
      broke = !was && d.reasm.broken;
    }
    const ended = d.endAt !== undefined && d.reasm.delivered >= d.endAt;
    if (ended) this.ending.delete(d);
    this.consumer.segment(v, d, pieces, broke, ended, at);
    if (this.views.get(key) === v) this.account(v);
  }

  private newView(s: Segment, key: string, end: End, limitEnd: boolean, at: At): StreamView<S> | undefined {
    const r = this.retired.get(key);
    if (r === DEAD || (r !== undefined && r.egress === null && r.ingress === null)) return undefined;
    // A FIN or RST of a connection never seen.
    if (s.bytes.length === 0 && !limitEnd) return undefined;
    if (r !== undefined) {
      const p = r[sideOf(s, end)];
      // Given up, or ended where it was left: nothing more to take.
      if (p === null || (p && s.bytes.length === 0 && s.offset + s.len <= p.next)) return undefined;
      this.retired.delete(key);
    }
    if (this.views.size >= this.o.maxViews) {
      const oldest = this.views.values().next().value;
      if (oldest !== undefined) this.evict(oldest, 'evicted', at.tsNs);
    }
    const v: StreamView<S> = {
      key,
      conn: String(s.conn),
      end,
      sock: sockOf(s, end),
      egress: undefined,
      ingress: undefined,
      reset: false,
      firstNs: at.tsNs,
      lastNs: at.tsNs,
      state: undefined as unknown as S,
    };
    if (r !== undefined) this.places.set(v, r);
    this.views.set(key, v);
    v.state = this.consumer.open(v, at);
    return v;
  }

  private evict(v: StreamView<S>, why: 'idle' | 'evicted', nowNs: number): void {
    const marks = this.consumer.evict(v, why, nowNs);
    if (this.views.get(v.key) !== v) return; // the consumer settled it
    this.remove(v);
    if (marks === null) {
      this.retire(v.key, DEAD);
      return;
    }
    const r: Retired<M> = {};
    const earlier = this.places.get(v);
    for (const side of ['egress', 'ingress'] as const) {
      const d = v[side];
      if (d === undefined) {
        if (earlier?.[side] !== undefined) r[side] = earlier[side];
        continue;
      }
      const m = marks[side];
      r[side] = d.state === 'closed' || m === null || m === undefined ? null : { next: d.reasm.delivered, mark: m };
    }
    this.retire(v.key, r);
  }

  private remove(v: StreamView<S>): void {
    this.views.delete(v.key);
    this.holding.delete(v.key);
    this.bytes -= this.held.get(v) ?? 0;
    this.held.delete(v);
    if (v.egress) this.ending.delete(v.egress);
    if (v.ingress) this.ending.delete(v.ingress);
  }

  private retire(key: string, r: Retired<M>): void {
    this.retired.delete(key);
    this.retired.set(key, r);
    while (this.retired.size > this.o.maxRetired) {
      const k = this.retired.keys().next().value;
      if (k === undefined) break;
      this.retired.delete(k);
      this.stats.forgotten++;
    }
  }

  /** Counts what a view holds into the total; over the budget, the oldest holders are pushed out. */
  private account(v: StreamView<S>): void {
    const now = (v.egress?.reasm.heldBytes ?? 0) + (v.ingress?.reasm.heldBytes ?? 0) + this.consumer.buffered(v);
    const was = this.held.get(v) ?? 0;
    this.bytes += now - was;
    if (now === 0) {
      this.held.delete(v);
      this.holding.delete(v.key);
    } else {
      this.held.set(v, now);
      if (!this.holding.has(v.key)) this.holding.set(v.key, v);
    }
    while (this.bytes > this.o.maxBytes) {
      const oldest = this.holding.values().next().value;
      if (oldest === undefined) break;
      this.evict(oldest, 'evicted', v.lastNs);
    }
  }
}

function newDir(side: Side, start: number, maxHeld: number): StreamDir {
  return {
    side,
    reasm: new StreamReassembler(maxHeld, start),
    endAt: undefined,
    endNs: undefined,
    limited: false,
    cut: false,
    state: 'open',
    proc: undefined,
  };
}
