/**
 * DNS messages from the kernel's payload records: a UDP datagram is one
 * message (put back together when the kernel split it over records); a TCP
 * connection's directions are put in order (StreamReassembler) and framed by
 * their two-byte lengths (DnsTcpFramer).
 *
 * A TCP direction lives until its end (FIN, RST, the kernel's copy limit)
 * is delivered in order. Idle ones, and the oldest over the cap on
 * directions or on bytes held, are parked: their buffers dropped, their
 * place kept (the next offset, and how far to the next message boundary),
 * so a long-lived connection that speaks again is framed where it left off.
 * A direction given up (a gap, a bad length) is remembered as such, so later
 * segments do not start it over. Places are kept for a bounded number of
 * directions. Everything dropped is counted. Pure (no I/O); never throws on
 * bytes.
 */
import { PayloadChunk } from '../events/sock-payload';
import { ProcInfo, SockInfo } from '../events/record';
import { DnsTcpFramer, FramerMark } from '../protocols/dns/tcp-framing';
import { StreamReassembler } from './tcp-reassembly';

/** One whole DNS message as one socket sent or received it. */
export interface DnsWireMessage {
  tsNs: bigint;
  proc: ProcInfo | null;
  sock: SockInfo;
  conn: bigint;
  dir: 'egress' | 'ingress';
  transport: 'udp' | 'tcp';
  /** Owned by the receiver (copied out of the ring). */
  bytes: Uint8Array;
}

/** A TCP message cut off: its framing broke, a gap could not be filled, or the stream stopped inside it. */
export interface DnsStreamFault {
  tsNs: bigint;
  proc: ProcInfo | null;
  sock: SockInfo;
  dir: 'egress' | 'ingress';
  error: string;
}

export interface DnsMessageStats {
  /** UDP datagrams whose other records never came (lost in the kernel), dropped. */
  partialDatagrams: number;
  /** TCP directions given up and reported: a gap not filled, a length over the bound, a message cut. */
  brokenStreams: number;
  /** TCP directions idle past the limit: buffers dropped, place kept. */
  idleStreams: number;
  /** TCP directions pushed out over the cap on directions or bytes held: buffers dropped, place kept. */
  evictedStreams: number;
  /** Messages begun and dropped with the buffers of an idle or pushed-out direction. */
  droppedMessages: number;
  /** Kept places dropped over their cap: such a direction, heard again, starts over. */
  forgottenStreams: number;
  /** TCP directions that reached the kernel's copy limit: their later messages are not seen. */
  limitedStreams: number;
}

interface Partial {
  first: PayloadChunk;
  buf: Uint8Array;
  filled: number;
}

interface TcpDir {
  key: string;
  reasm: StreamReassembler;
  framer: DnsTcpFramer;
  lastNs: bigint;
  /** The last record's process and socket (for a fault found later). */
  proc: ProcInfo | null;
  sock: SockInfo;
  dir: 'egress' | 'ingress';
  /** Where the direction ends (FIN, RST, copy limit), once known; closed when delivered gets there. */
  endAt: number | undefined;
  endNs: bigint;
  /** The end is the kernel's copy limit (cut: a packet over what it copies of one). */
  limited: boolean;
  cut: boolean;
  /** Bytes it holds, as last counted into the total. */
  buffered: number;
}

/** A direction without buffers: where to take it up again, or null once given up or closed. */
type Parked = { next: number; mark: FramerMark } | null;

export interface DnsMessagesOptions {
  /** The longest TCP message taken (the protocol's own bound is 65535). */
  maxTcpMessage?: number;
  /** TCP directions tracked with buffers at once. */
  maxStreams?: number;
  /** Bytes all TCP directions may hold together (segments ahead of gaps, messages begun). */
  maxBytes?: number;
  /** A TCP direction idle this long is parked. */
  idleNs?: bigint;
  /** A direction whose end came ahead of a gap waits this long for the gap. */
  endGraceNs?: bigint;
  /** Parked directions remembered. */
  maxParked?: number;
}

const PARTIAL_TTL_NS = 1_000_000_000n;
const MAX_PARTIALS = 256;

export class DnsMessages {
  readonly stats: DnsMessageStats = {
    partialDatagrams: 0,
    brokenStreams: 0,
    idleStreams: 0,
    evictedStreams: 0,
    droppedMessages: 0,
    forgottenStreams: 0,
    limitedStreams: 0,
  };
  private readonly partials = new Map<string, Partial>();
  /** Most recently used last. */
  private readonly streams = new Map<string, TcpDir>();
  /** Directions holding bytes, in the order they began to: the oldest are pushed out first. */
  private readonly buffering = new Map<string, TcpDir>();
  /** Directions whose end is known and not yet delivered, in the order it became known. */
  private readonly ending = new Map<string, TcpDir>();
  /** Least recently parked first. */
  private readonly parked = new Map<string, Parked>();
  private bytes = 0;
  private readonly maxTcpMessage: number;
  private readonly maxStreams: number;
  private readonly maxBytes: number;
  private readonly idleNs: bigint;
  private readonly endGraceNs: bigint;
  private readonly maxParked: number;

  constructor(o: DnsMessagesOptions = {}) {
    this.maxTcpMessage = o.maxTcpMessage ?? 0xffff;
    this.maxStreams = o.maxStreams ?? 4096;
    this.maxBytes = o.maxBytes ?? 32 << 20;
    this.idleNs = o.idleNs ?? 60_000_000_000n;
    this.endGraceNs = o.endGraceNs ?? 10_000_000_000n;
    this.maxParked = o.maxParked ?? 65536;
  }

  /** Bytes the TCP directions hold now. */
  get heldBytes(): number {
    return this.bytes;
  }

  /** The messages (and TCP faults) this record completes. */
  push(c: PayloadChunk): (DnsWireMessage | DnsStreamFault)[] {
    return c.transport === 'udp' ? this.udp(c) : this.tcp(c);
  }

  private message(c: PayloadChunk, bytes: Uint8Array): DnsWireMessage {
    return { tsNs: c.tsNs, proc: c.proc, sock: c.sock, conn: c.conn, dir: c.dir, transport: c.transport, bytes };
  }

  private udp(c: PayloadChunk): DnsWireMessage[] {
    // Copied: the ring's batch is reused once the handler returns.
    if (c.off === 0 && c.bytes.length >= c.len) return [this.message(c, new Uint8Array(c.bytes.subarray(0, c.len)))];
    // A datagram over one record: its records share the packet's time, socket and direction.
    const key = `${c.conn}/${c.dir}/${c.tsNs}`;
    let p = this.partials.get(key);
    if (!p) {
      if (this.partials.size >= MAX_PARTIALS) this.dropOldestPartial();
      p = { first: c, buf: new Uint8Array(c.len), filled: 0 };
      this.partials.set(key, p);
    }
    if (c.off + c.bytes.length > p.buf.length) return [];
    p.buf.set(c.bytes, c.off);
    p.filled += c.bytes.length;
    if (p.filled < p.buf.length) return [];
    this.partials.delete(key);
    return [this.message(p.first, p.buf)];
  }

  private dropOldestPartial(): void {
    const k = this.partials.keys().next().value;
    if (k !== undefined) this.partials.delete(k);
    this.stats.partialDatagrams++;
  }

  private tcp(c: PayloadChunk): (DnsWireMessage | DnsStreamFault)[] {
    const key = `${c.conn}/${c.dir}`;
    const ends = c.fin || c.rst || c.limit;
    let s = this.streams.get(key);
    if (s) {
      // Most recently used last, for eviction.
      this.streams.delete(key);
      this.streams.set(key, s);
    } else {
      const parked = this.parked.get(key);
      // Given up or closed: nothing of it is framed again.
      if (parked === null) return [];
      if (parked === undefined && c.bytes.length === 0 && !c.limit) return []; // a FIN or RST of a direction never seen
      if (parked !== undefined) {
        this.parked.delete(key);
        // Ended where it was left: nothing more to frame.
        if (c.bytes.length === 0 && ends && c.stream + c.len <= parked.next) return [];
      }
      if (this.streams.size >= this.maxStreams) {
        const oldest = this.streams.values().next().value;
        if (oldest) this.park(oldest, 'evicted');
      }
      s = {
        key,
        reasm: new StreamReassembler(this.maxTcpMessage + 2, parked?.next ?? 0),
        framer: new DnsTcpFramer(this.maxTcpMessage, parked?.mark),
        lastNs: c.tsNs,
        proc: c.proc,
        sock: c.sock,
        dir: c.dir,
        endAt: undefined,
        endNs: 0n,
        limited: false,
        cut: false,
        buffered: 0,
      };
      this.streams.set(key, s);
    }
    s.lastNs = c.tsNs;
    s.proc = c.proc ?? s.proc;
    s.sock = c.sock;
    if (ends) {
      const end = c.stream + c.len;
      if (s.endAt === undefined || end < s.endAt) s.endAt = end;
      s.limited ||= c.limit;
      s.cut ||= c.cut;
      if (!this.ending.has(key)) {
        s.endNs = c.tsNs;
        this.ending.set(key, s);
      }
    }
    const out: (DnsWireMessage | DnsStreamFault)[] = [];
    const wasBroken = s.reasm.broken;
    for (const piece of s.reasm.push(c.stream + c.off, c.bytes)) {
      const r = s.framer.push(piece);
      for (const m of r.messages) out.push(this.message(c, m));
      if (r.error) {
        this.fault(s, r.error, out, c.tsNs);
        return out;
      }
    }
    if (!wasBroken && s.reasm.broken) {
      this.fault(s, 'gap in the TCP stream', out, c.tsNs);
      return out;
    }
    if (!this.closeIfEnded(s, out, c.tsNs)) this.account(s);
    return out;
  }

  /** Closes a direction whose end is delivered; true if it did. */
  private closeIfEnded(s: TcpDir, out: (DnsWireMessage | DnsStreamFault)[], tsNs: bigint): boolean {
    if (s.endAt === undefined || s.reasm.delivered < s.endAt) return false;
    if (!s.framer.atBoundary) {
      const why = s.cut
        ? 'cut: a packet longer than the kernel copies of one'
        : s.limited
          ? 'cut at the copy limit'
          : 'stream ended inside a message';
      this.fault(s, why, out, tsNs);
      return true;
    }
    if (s.limited) this.stats.limitedStreams++;
    this.remove(s);
    this.keep(s.key, null);
    return true;
  }

  /** Gives a direction up, reported: later segments of it are ignored. */
  private fault(s: TcpDir, error: string, out: (DnsWireMessage | DnsStreamFault)[], tsNs: bigint): void {
    this.stats.brokenStreams++;
    out.push({ tsNs, proc: s.proc, sock: s.sock, dir: s.dir, error });
    this.remove(s);
    this.keep(s.key, null);
  }

  /** Drops a direction's buffers and keeps its place (or that it was given up: bytes waited ahead of a gap). */
  private park(s: TcpDir, why: 'idle' | 'evicted'): void {
    this.remove(s);
    if (why === 'idle') this.stats.idleStreams++;
    else this.stats.evictedStreams++;
    const p = s.reasm.broken || s.reasm.gap ? null : s.framer.park();
    if (p === null) {
      this.stats.droppedMessages++;
      this.keep(s.key, null);
      return;
    }
    if (p.cut) this.stats.droppedMessages++;
    this.keep(s.key, { next: s.reasm.delivered, mark: p.mark });
  }

  private keep(key: string, p: Parked): void {
    this.parked.delete(key);
    this.parked.set(key, p);
    while (this.parked.size > this.maxParked) {
      const k = this.parked.keys().next().value;
      if (k === undefined) break;
      this.parked.delete(k);
      this.stats.forgottenStreams++;
    }
  }

  private remove(s: TcpDir): void {
    this.streams.delete(s.key);
    this.buffering.delete(s.key);
    this.ending.delete(s.key);
    this.bytes -= s.buffered;
    s.buffered = 0;
  }

  /** Counts what a direction holds into the total; over the budget, the oldest holders are parked. */
  private account(s: TcpDir): void {
    const now = s.reasm.heldBytes + s.framer.buffered;
    this.bytes += now - s.buffered;
    s.buffered = now;
    if (now === 0) this.buffering.delete(s.key);
    else if (!this.buffering.has(s.key)) this.buffering.set(s.key, s);
    while (this.bytes > this.maxBytes) {
      const oldest = this.buffering.values().next().value;
      if (!oldest) break;
      this.park(oldest, 'evicted');
    }
  }

  /**
   * Drops datagrams still missing records; gives up directions whose end
   * came ahead of a gap that did not fill (reported); parks idle directions
   * (reported if bytes waited ahead of a gap).
   */
  expire(nowNs: bigint): DnsStreamFault[] {
    for (const [k, p] of this.partials) {
      if (nowNs - p.first.tsNs < PARTIAL_TTL_NS) break;
      this.partials.delete(k);
      this.stats.partialDatagrams++;
    }
    const out: (DnsWireMessage | DnsStreamFault)[] = [];
    for (const s of this.ending.values()) {
      if (nowNs - s.endNs < this.endGraceNs) break;
      this.fault(s, 'gap in the TCP stream', out, nowNs);
    }
    for (const s of this.streams.values()) {
      if (nowNs - s.lastNs < this.idleNs) break;
      if (s.reasm.gap) this.fault(s, 'gap in the TCP stream', out, nowNs);
      else this.park(s, 'idle');
    }
    return out as DnsStreamFault[];
  }
}
