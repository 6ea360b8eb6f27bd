/**
 * TCP connections from packets, for capture files: what
 * bpf/sock_payload.bpf.c and the stream analyzers do together for live
 * sockets, done here from the wire. Each direction of each connection comes
 * out as Segments in stream order, numbered from its SYN (offset 0 is
 * ISN + 1), or from the first byte seen when the capture starts inside the
 * connection (flagged `midStream`, client and server guessed from the
 * ports). UDP datagrams pass through as Datagrams.
 *
 * Per direction:
 *  - a segment wholly before what was delivered (a retransmission, a
 *    duplicate) is dropped; one that overlaps it is trimmed; both counted;
 *  - a segment past a hole is copied and held, then released in order when
 *    the hole fills. A hole is given up on ("declared": the next segment says
 *    how many bytes were never seen, `gap`) when the direction holds more
 *    than its bound, when all directions together hold more than the budget,
 *    when it stays open for `gapSec` of the data's clock, when an RST comes
 *    (no retransmission follows one), when the other end acknowledges a FIN
 *    held past it (it had every byte: the capture lost them), or when the
 *    connection is dropped;
 *  - a FIN ends the direction once it is in order; an RST ends both.
 * Sequence numbers wrap at 2^32; offsets do not.
 *
 * Bounded: flows in the table (the least recently active is pushed out, its
 * directions ended 'evicted'), bytes and segments held per direction and
 * held in all. Connections with no packet for `idleSec` are ended 'idle';
 * closed ones are kept `closedSec` to absorb late retransmissions. Time is
 * the packets' own (and tick() from the source): a file replays exactly as
 * it was captured, as fast as it reads. Pure; never throws on bytes.
 */
import { looksLikeServerPort, type FlowKey, type RolesFrom, type StreamDir } from '../model/flow';
import type { Packet, Proc } from '../model/packet';
import type { Datagram, Segment, StreamEnd } from '../model/segment';
import { TimeBase } from '../model/time';
import { decodePacket, TH_ACK, TH_FIN, TH_RST, TH_SYN } from './decode';
import type { Decoded, Ipv4, Ipv6, Tcp, Udp } from './decode';

export interface FlowTrackerOptions {
  /** TCP connections tracked at once. */
  maxFlows?: number;
  /** A connection with no packet for this long (seconds, data's clock) is ended 'idle'. */
  idleSec?: number;
  /** A connection whose directions both ended is kept this long for late retransmissions. */
  closedSec?: number;
  /** A hole not filled within this long is declared. */
  gapSec?: number;
  /** Bytes a direction may hold past a hole. */
  maxHeldBytes?: number;
  /** Segments a direction may hold past a hole. */
  maxHeldSegments?: number;
  /** Bytes all directions may hold together. */
  maxHeldTotal?: number;
  /** A segment further than this past what a direction expects is not taken (out of any window). */
  maxAhead?: number;
  /** The segments' clock (src/model/time): default, ns since the first packet's second. */
  time?: TimeBase;
}

/** Why holes were declared. */
export interface GapCauses {
  /** The direction's own bound on what it holds. */
  bound: number;
  /** The budget of all directions. */
  budget: number;
  /** Open for gapSec. */
  timeout: number;
  /** An RST. */
  rst: number;
  /** The other end acknowledged a FIN that waited past the hole. */
  acked: number;
  /** The connection was dropped (idle, evicted, reused, end of input). */
  end: number;
}

export interface FlowTrackerStats {
  packets: number;
  /** Not IPv4/IPv6 TCP or UDP, or a header cut or wrong: not looked at. */
  skipped: number;
  /** IP fragments: later ones carry no transport header (not reassembled); a first one of TCP is not taken. */
  fragments: number;
  /** TCP connections tracked. */
  flows: number;
  /** Of those, first seen without their handshake (roles guessed from the ports). */
  midStream: number;
  /** Pushed out of the full table while open. */
  evicted: number;
  /** Ended for lack of packets. */
  idle: number;
  /** Ended by a new connection on the same ends. */
  reused: number;
  /** Closed connections dropped after closedSec (or to make room). */
  closed: number;
  /** TCP packets with no payload, SYN or data for no tracked connection (late ACKs, FINs, RSTs): ignored. */
  stray: number;
  /** Segments given out. */
  segments: number;
  /** Segments wholly before what was delivered (retransmissions, duplicates): dropped. */
  retransmitted: number;
  retransmittedBytes: number;
  /** Segments that overlapped what was delivered: trimmed. */
  trimmed: number;
  trimmedBytes: number;
  /** Segments held past a hole. */
  outOfOrder: number;
  /** Holes declared, and the bytes never seen. */
  gaps: number;
  gapBytes: number;
  gapCauses: GapCauses;
  /** Segments too far ahead of what their direction expects: dropped. */
  outOfWindow: number;
  /** Segments with data after their direction ended: dropped. */
  afterEnd: number;
  datagrams: number;
}

/** What the tracker gives: TCP segments in stream order and UDP datagrams, in packet order. */
export type FlowOutput = Segment | Datagram;

interface Held {
  off: number;
  len: number;
  bytes: Uint8Array;
  syn: boolean;
  fin: boolean;
  proc: Proc | undefined;
  netns: number | undefined;
}

interface Dir {
  flow: Flow;
  dir: StreamDir;
  started: boolean;
  midStream: boolean;
  /** The sequence number of offset 0. */
  base: number;
  /** The offset expected next. */
  next: number;
  ended: boolean;
  /** Sorted by offset. */
  held: Held[];
  heldBytes: number;
  /** When the direction began to hold (seconds). */
  holeSince: number;
  /** The end of a FIN held past a hole. */
  finAt: number | undefined;
  /** Bytes declared missing, told by the next segment given out. */
  gap: number;
}

interface Flow {
  id: string;
  key: FlowKey;
  conn: number;
  roles: RolesFrom;
  c2s: Dir;
  s2c: Dir;
  /** The client's SYN, when seen: a SYN with another number on these ends is a new connection. */
  synSeq: number | undefined;
  last: number;
  closedAt: number | undefined;
}

const EMPTY = new Uint8Array(0);

export { looksLikeServerPort };

export class FlowTracker {
  readonly stats: FlowTrackerStats = {
    packets: 0,
    skipped: 0,
    fragments: 0,
    flows: 0,
    midStream: 0,
    evicted: 0,
    idle: 0,
    reused: 0,
    closed: 0,
    stray: 0,
    segments: 0,
    retransmitted: 0,
    retransmittedBytes: 0,
    trimmed: 0,
    trimmedBytes: 0,
    outOfOrder: 0,
    gaps: 0,
    gapBytes: 0,
    gapCauses: { bound: 0, budget: 0, timeout: 0, rst: 0, acked: 0, end: 0 },
    outOfWindow: 0,
    afterEnd: 0,
    datagrams: 0,
  };
  /** Least recently active first. */
  private readonly flows = new Map<string, Flow>();
  /** Closed connections, in the order they closed. */
  private readonly closing = new Set<Flow>();
  /** Directions holding segments past a hole, in the order they began to. */
  private readonly holding = new Set<Dir>();
  private heldTotal = 0;
  private nextConn = 1;
  /** The data's clock: the latest time seen, in seconds. */
  private now = -Infinity;
  /** The time given to segments made now. */
  private sec = 0;
  private nsec = 0;
  private readonly maxFlows: number;
  private readonly idleSec: number;
  private readonly closedSec: number;
  private readonly gapSec: number;
  private readonly maxHeldBytes: number;
  private readonly maxHeldSegments: number;
  private readonly maxHeldTotal: number;
  private readonly maxAhead: number;

  /** The clock of the segments' tsNs: the packets' wall time less its base second. */
  readonly time: TimeBase;

  constructor(o: FlowTrackerOptions = {}) {
    this.time = o.time ?? TimeBase.fromFirst();
    this.maxFlows = Math.max(1, o.maxFlows ?? 65536);
    this.idleSec = o.idleSec ?? 300;
    this.closedSec = o.closedSec ?? 10;
    this.gapSec = o.gapSec ?? 5;
    this.maxHeldBytes = o.maxHeldBytes ?? 1 << 20;
    this.maxHeldSegments = o.maxHeldSegments ?? 1024;
    this.maxHeldTotal = o.maxHeldTotal ?? 64 << 20;
    this.maxAhead = o.maxAhead ?? 1 << 30;
  }

  /** TCP connections tracked now. */
  get activeFlows(): number {
    return this.flows.size;
  }

  /** Bytes held past holes now, all directions together. */
  get heldBytes(): number {
    return this.heldTotal;
  }

  /** A packet: the segments it puts in order (and those of timers its time ran out), appended to `out`. */
  push(p: Packet, out: FlowOutput[] = []): FlowOutput[] {
    return this.pushDecoded(p, decodePacket(p.data, p.linkType), out);
  }

  /** The same, for a packet the caller has decoded already. */
  pushDecoded(p: Packet, d: Decoded, out: FlowOutput[] = []): FlowOutput[] {
    this.stats.packets++;
    this.advance(p.sec, p.nsec, out);
    this.sec = p.sec;
    this.nsec = p.nsec;
    const net = d.net;
    const t = d.transport;
    if (net === undefined || net.kind === 'arp' || d.truncated !== undefined || d.malformed !== undefined) {
      this.stats.skipped++;
      return out;
    }
    // A fragment (not an atomic one: offset 0 and no more to come) is part of a datagram not put together here.
    const fragmented =
      net.kind === 'ipv4'
        ? net.mf || net.fragOffset !== 0
        : net.frag !== undefined && (net.frag.more || net.frag.offset !== 0);
    if (t === undefined) {
      if (fragmented) this.stats.fragments++;
      else this.stats.skipped++;
      return out;
    }
    if (t.kind === 'udp') this.udp(p, d, net, t, fragmented, out);
    else if (t.kind === 'tcp' && !fragmented) this.tcp(p, d, net, t, out);
    else if (t.kind === 'tcp') this.stats.fragments++;
    else this.stats.skipped++;
    return out;
  }

  /** The data's clock moved on without a packet (a live source's quiet): timers that ran out. */
  tick(sec: number, nsec = 0, out: FlowOutput[] = []): FlowOutput[] {
    this.advance(sec, nsec, out);
    return out;
  }

  /** The input ended: every hole declared, every open direction ended 'flush'. */
  flush(out: FlowOutput[] = []): FlowOutput[] {
    for (const f of this.flows.values()) this.endFlow(f, 'flush', out);
    return out;
  }

  private advance(sec: number, nsec: number, out: FlowOutput[]): void {
    const t = sec + nsec / 1e9;
    if (!(t > this.now)) return;
    this.now = t;
    this.sec = sec;
    this.nsec = nsec;
    for (const d of this.holding) {
      if (t - d.holeSince < this.gapSec) break;
      this.declare(d, 'timeout', out);
    }
    for (const f of this.closing) {
      if (t - f.closedAt! < this.closedSec) break;
      this.removeFlow(f);
      this.stats.closed++;
    }
    for (const f of this.flows.values()) {
      if (t - f.last < this.idleSec) break;
      if (f.closedAt !== undefined) this.stats.closed++;
      else this.stats.idle++;
      this.endFlow(f, 'idle', out);
    }
  }

  private udp(p: Packet, d: Decoded, net: Ipv4 | Ipv6, u: Udp, fragmented: boolean, out: FlowOutput[]): void {
    if (fragmented) this.stats.fragments++;
    const toServer = looksLikeServerPort(u.dport, u.sport);
    const key = makeKey('udp', net, u.sport, u.dport, toServer, p.netns);
    const len = u.length >= 8 ? u.length - 8 : d.payloadWireLength;
    const g: Datagram = {
      kind: 'datagram',
      key,
      dir: toServer ? 'c2s' : 's2c',
      roles: 'ports',
      len,
      bytes: p.data.subarray(d.payloadOffset, d.payloadOffset + Math.min(d.payloadLength, len)),
      tsNs: this.time.ns(p.sec, p.nsec),
      proc: p.proc,
      netns: p.netns,
      observer: 'wire',
    };
    this.stats.datagrams++;
    out.push(g);
  }

  private tcp(p: Packet, d: Decoded, net: Ipv4 | Ipv6, t: Tcp, out: FlowOutput[]): void {
    const syn = (t.flags & TH_SYN) !== 0;
    const fin = (t.flags & TH_FIN) !== 0;
    const rst = (t.flags & TH_RST) !== 0;
    const ack = (t.flags & TH_ACK) !== 0;
    const len = d.payloadWireLength;
    const id = flowId(p.netns, net.src, t.sport, net.dst, t.dport);
    let f = this.flows.get(id);
    if (f !== undefined) {
      this.flows.delete(id);
      this.flows.set(id, f);
      f.last = this.now;
    }
    if (syn && !rst) f = this.handshake(f, id, p, net, t, ack, out);
    if (f === undefined) {
      if (len === 0) {
        this.stats.stray++;
        return;
      }
      f = this.newFlow(id, p, net, t, looksLikeServerPort(t.dport, t.sport), 'ports', out);
      this.stats.midStream++;
    }
    const fromClient = net.src === f.key.clientAddr && t.sport === f.key.clientPort;
    const own = fromClient ? f.c2s : f.s2c;
    const other = fromClient ? f.s2c : f.c2s;
    // The other end has every byte up to the FIN that waits past its hole: the capture lost them.
    if (ack && other.finAt !== undefined && offsetOf(other, t.ack) > other.finAt) this.declare(other, 'acked', out);
    if (rst) {
      this.reset(f, own, other, t.seq, out);
      return;
    }
    if (len === 0 && !fin) return;
    const seq = syn ? (t.seq + 1) >>> 0 : t.seq;
    if (!own.started) start(own, seq, true);
    const bytes = p.data.subarray(d.payloadOffset, d.payloadOffset + Math.min(d.payloadLength, len));
    this.take(own, seq, len, bytes, syn, fin, p.proc, p.netns, out);
    if (f.c2s.ended && f.s2c.ended) this.close(f);
  }

  /** A SYN or SYN-ACK: the connection it starts or belongs to. */
  private handshake(
    f: Flow | undefined,
    id: string,
    p: Packet,
    net: Ipv4 | Ipv6,
    t: Tcp,
    ack: boolean,
    out: FlowOutput[],
  ): Flow | undefined {
    if (!ack) {
      // A SYN: its sender connects. The same one again is a retransmission; another is a new connection.
      if (f !== undefined) {
        const same = net.src === f.key.clientAddr && t.sport === f.key.clientPort;
        const isn = (t.seq + 1) >>> 0;
        if (
          same &&
          (f.synSeq === t.seq || (f.synSeq === undefined && f.c2s.started && !f.c2s.midStream && f.c2s.base === isn))
        ) {
          return f;
        }
        if (f.closedAt === undefined) this.stats.reused++;
        else this.stats.closed++;
        this.endFlow(f, 'reused', out);
      }
      const nf = this.newFlow(id, p, net, t, true, 'handshake', out);
      nf.synSeq = t.seq;
      start(nf.c2s, (t.seq + 1) >>> 0, false);
      return nf;
    }
    // A SYN-ACK: its sender accepts. Its acknowledgment number is where the client's stream starts.
    if (f === undefined) {
      f = this.newFlow(id, p, net, t, false, 'handshake', out);
      start(f.c2s, t.ack, false);
    }
    const fromServer = net.src === f.key.serverAddr && t.sport === f.key.serverPort;
    if (fromServer && !f.s2c.started) start(f.s2c, (t.seq + 1) >>> 0, false);
    if (fromServer && !f.c2s.started) start(f.c2s, t.ack, false);
    return f;
  }

  /** A segment of a started direction at sequence number seq (its data's first byte). */
  private take(
    d: Dir,
    seq: number,
    len: number,
    bytes: Uint8Array,
    syn: boolean,
    fin: boolean,
    proc: Proc | undefined,
    netns: number | undefined,
    out: FlowOutput[],
  ): void {
    if (d.ended) {
      if (len > 0) this.stats.afterEnd++;
      return;
    }
    let off = offsetOf(d, seq);
    const end = off + len;
    if (off - d.next > this.maxAhead) {
      this.stats.outOfWindow++;
      return;
    }
    if (end < d.next || (end === d.next && !fin)) {
      // All of it came before (a FIN before the end is not believed either).
      this.stats.retransmitted++;
      this.stats.retransmittedBytes += len;
      return;
    }
    if (off > d.next) {
      this.hold(d, off, len, bytes, syn, fin, proc, netns, out);
      return;
    }
    if (off < d.next) {
      const skip = d.next - off;
      this.stats.trimmed++;
      this.stats.trimmedBytes += skip;
      bytes = bytes.subarray(Math.min(skip, bytes.length));
      len -= skip;
      off = d.next;
    }
    this.deliver(d, len, bytes, syn, fin, proc, netns, out);
    this.release(d, out);
  }

  /** Gives out the next bytes of a direction (at d.next). */
  private deliver(
    d: Dir,
    len: number,
    bytes: Uint8Array,
    syn: boolean,
    fin: boolean,
    proc: Proc | undefined,
    netns: number | undefined,
    out: FlowOutput[],
  ): void {
    const off = d.next;
    d.next = off + len;
    if (fin) {
      d.ended = true;
      this.dropHeld(d);
    }
    this.emit(d, off, len, bytes, syn, fin, false, fin ? 'fin' : undefined, proc, netns, out);
  }

  private emit(
    d: Dir,
    offset: number,
    len: number,
    bytes: Uint8Array,
    syn: boolean,
    fin: boolean,
    rst: boolean,
    end: StreamEnd | undefined,
    proc: Proc | undefined,
    netns: number | undefined,
    out: FlowOutput[],
  ): void {
    const f = d.flow;
    const s: Segment = {
      kind: 'segment',
      key: f.key,
      conn: f.conn,
      dir: d.dir,
      roles: f.roles,
      offset,
      len,
      bytes,
      gap: d.gap,
      syn,
      fin,
      rst,
      midStream: d.midStream,
      end,
      tsNs: this.time.ns(this.sec, this.nsec),
      proc,
      netns,
      observer: 'wire',
    };
    d.gap = 0;
    this.stats.segments++;
    out.push(s);
  }

  private hold(
    d: Dir,
    off: number,
    len: number,
    bytes: Uint8Array,
    syn: boolean,
    fin: boolean,
    proc: Proc | undefined,
    netns: number | undefined,
    out: FlowOutput[],
  ): void {
    const end = off + len;
    let i = d.held.length;
    for (let j = 0; j < d.held.length; j++) {
      const h = d.held[j]!;
      if (h.off <= off && h.off + h.len >= end && (h.fin || !fin)) {
        this.stats.retransmitted++;
        this.stats.retransmittedBytes += len;
        return;
      }
      if (i === d.held.length && h.off > off) i = j;
    }
    const copy = new Uint8Array(bytes); // the packet's buffer is the caller's
    d.held.splice(i, 0, { off, len, bytes: copy, syn, fin, proc, netns });
    d.heldBytes += copy.length;
    this.heldTotal += copy.length;
    if (fin && (d.finAt === undefined || end < d.finAt)) d.finAt = end;
    this.stats.outOfOrder++;
    if (!this.holding.has(d)) {
      d.holeSince = this.now;
      this.holding.add(d);
    }
    if (d.held.length > this.maxHeldSegments || d.heldBytes > this.maxHeldBytes) this.declare(d, 'bound', out);
    while (this.heldTotal > this.maxHeldTotal) {
      const oldest = this.holding.values().next().value;
      if (oldest === undefined) break;
      this.declare(oldest, 'budget', out);
    }
  }

  /** Gives out the held segments that are now in order. */
  private release(d: Dir, out: FlowOutput[]): void {
    if (d.held.length === 0) return;
    let n = 0;
    while (n < d.held.length && !d.ended) {
      const h = d.held[n]!;
      if (h.off > d.next) break;
      n++;
      d.heldBytes -= h.bytes.length;
      this.heldTotal -= h.bytes.length;
      const end = h.off + h.len;
      if (end < d.next || (end === d.next && !h.fin)) {
        this.stats.retransmitted++;
        this.stats.retransmittedBytes += h.len;
        continue;
      }
      const skip = d.next - h.off;
      if (skip > 0) {
        this.stats.trimmed++;
        this.stats.trimmedBytes += skip;
      }
      this.deliver(
        d,
        h.len - skip,
        h.bytes.subarray(Math.min(skip, h.bytes.length)),
        h.syn,
        h.fin,
        h.proc,
        h.netns,
        out,
      );
    }
    if (d.ended) return; // dropHeld cleared it
    if (n > 0) d.held.splice(0, n);
    if (d.held.length === 0) {
      this.holding.delete(d);
      d.finAt = undefined;
    } else if (n > 0) {
      // A hole further on: its own time starts now.
      this.holding.delete(d);
      d.holeSince = this.now;
      this.holding.add(d);
    }
  }

  /** Gives up on a direction's holes: what waits past them goes out, each after the bytes it misses. */
  private declare(d: Dir, why: keyof GapCauses, out: FlowOutput[]): void {
    while (d.held.length > 0 && !d.ended) {
      const h = d.held[0]!;
      if (h.off > d.next) this.missing(d, h.off - d.next, why);
      this.release(d, out);
    }
    this.dropHeld(d);
  }

  /** Bytes of a direction never seen: the next segment says so. */
  private missing(d: Dir, n: number, why: keyof GapCauses): void {
    d.gap += n;
    d.next += n;
    this.stats.gaps++;
    this.stats.gapBytes += n;
    this.stats.gapCauses[why]++;
  }

  private dropHeld(d: Dir): void {
    if (d.held.length > 0) {
      this.heldTotal -= d.heldBytes;
      d.held.length = 0;
      d.heldBytes = 0;
    }
    this.holding.delete(d);
    d.finAt = undefined;
  }

  /** An RST from `own`'s sender: both directions end. */
  private reset(f: Flow, own: Dir, other: Dir, seq: number, out: FlowOutput[]): void {
    if (own.started && !own.ended) this.declare(own, 'rst', out);
    if (own.started && !own.ended) {
      const off = offsetOf(own, seq);
      // Bytes its sender sent before the reset that the capture missed.
      if (off > own.next && off - own.next <= this.maxAhead) this.missing(own, off - own.next, 'rst');
      own.ended = true;
      this.emit(own, own.next, 0, EMPTY, false, false, true, 'rst', undefined, undefined, out);
    }
    this.endDir(other, 'reset', out);
    own.ended = true;
    other.ended = true;
    this.close(f);
  }

  /** Ends a direction that has not ended, its holes declared. */
  private endDir(d: Dir, why: StreamEnd, out: FlowOutput[]): void {
    if (!d.started || d.ended) return;
    this.declare(d, 'end', out);
    if (d.ended) return; // a held FIN ended it
    d.ended = true;
    this.emit(d, d.next, 0, EMPTY, false, false, false, why, undefined, undefined, out);
  }

  private close(f: Flow): void {
    if (f.closedAt !== undefined) return;
    f.closedAt = this.now;
    this.closing.add(f);
  }

  /** Ends a connection's open directions and forgets it. */
  private endFlow(f: Flow, why: StreamEnd, out: FlowOutput[]): void {
    this.endDir(f.c2s, why, out);
    this.endDir(f.s2c, why, out);
    this.removeFlow(f);
  }

  private removeFlow(f: Flow): void {
    this.flows.delete(f.id);
    this.closing.delete(f);
    this.dropHeld(f.c2s);
    this.dropHeld(f.s2c);
  }

  private newFlow(
    id: string,
    p: Packet,
    net: Ipv4 | Ipv6,
    t: Tcp,
    toServer: boolean,
    roles: RolesFrom,
    out: FlowOutput[],
  ): Flow {
    if (this.flows.size >= this.maxFlows) {
      const closed = this.closing.values().next().value;
      if (closed !== undefined) {
        this.removeFlow(closed);
        this.stats.closed++;
      } else {
        const lru = this.flows.values().next().value;
        if (lru !== undefined) {
          this.stats.evicted++;
          this.endFlow(lru, 'evicted', out);
        }
      }
    }
    const f: Flow = {
      id,
      key: makeKey('tcp', net, t.sport, t.dport, toServer, p.netns),
      conn: this.nextConn++,
      roles,
      c2s: undefined as unknown as Dir,
      s2c: undefined as unknown as Dir,
      synSeq: undefined,
      last: this.now,
      closedAt: undefined,
    };
    f.c2s = newDir(f, 'c2s');
    f.s2c = newDir(f, 's2c');
    this.flows.set(id, f);
    this.stats.flows++;
    return f;
  }
}

function newDir(flow: Flow, dir: StreamDir): Dir {
  return {
    flow,
    dir,
    started: false,
    midStream: false,
    base: 0,
    next: 0,
    ended: false,
    held: [],
    heldBytes: 0,
    holeSince: 0,
    finAt: undefined,
    gap: 0,
  };
}

/** Offset 0 of a direction is at sequence number `base`. */
function start(d: Dir, base: number, midStream: boolean): void {
  d.started = true;
  d.base = base >>> 0;
  d.next = 0;
  d.midStream = midStream;
}

/** The offset of sequence number seq: the one within 2^31 of what the direction expects next. */
function offsetOf(d: Dir, seq: number): number {
  const nextSeq = (d.base + d.next) >>> 0;
  return d.next + ((seq - nextSeq) | 0);
}

/** One string for both directions of a connection: its ends in a fixed order. */
function flowId(netns: number | undefined, a: string, ap: number, b: string, bp: number): string {
  const first = a < b || (a === b && ap <= bp);
  const ns = netns === undefined ? '' : netns;
  return first ? `${ns}|${a}|${ap}|${b}|${bp}` : `${ns}|${b}|${bp}|${a}|${ap}`;
}

function makeKey(
  protocol: 'tcp' | 'udp',
  net: Ipv4 | Ipv6,
  sport: number,
  dport: number,
  toServer: boolean,
  netns: number | undefined,
): FlowKey {
  const key: FlowKey = {
    family: net.kind,
    protocol,
    clientAddr: toServer ? net.src : net.dst,
    clientPort: toServer ? sport : dport,
    serverAddr: toServer ? net.dst : net.src,
    serverPort: toServer ? dport : sport,
  };
  if (netns !== undefined) key.netns = netns;
  return key;
}
