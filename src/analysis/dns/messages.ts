/**
 * DNS messages from Segments and Datagrams (src/analysis/streams): a UDP
 * datagram is one message; each TCP direction, in order from the stream
 * service, is framed by its two-byte lengths (DnsTcpFramer).
 *
 * A TCP direction lives until its end (FIN, RST, the source's copy limit)
 * is in. Idle views, and the oldest over the cap on views or on bytes held,
 * are put aside by the service: buffers dropped, each direction's place kept
 * (its next offset, and how far to the next message boundary), so a
 * long-lived connection that speaks again is framed where it left off. A
 * direction given up (a gap, a bad length) is remembered as such, so later
 * segments do not start it over. Everything dropped is counted. Pure (no
 * I/O); never throws on bytes.
 *
 * With `classify` (capture files, where the kernel chose nothing), only what
 * the kernel would have copied is taken: TCP connections whose first
 * payload starts DNS, UDP datagrams whose header passes its test, and the
 * first datagram that is not DNS a socket receives after each query it
 * sends.
 */
import type { Proc } from '../../model/packet';
import type { Datagram, Segment } from '../../model/segment';
import type { SockInfo } from '../../events/record';
import { dnsHeaderPlausible, startsDnsOverTcp } from '../../protocols/dns';
import { DnsTcpFramer, FramerMark } from '../../protocols/dns/tcp-framing';
import { At, DatagramView, Side, StreamConsumer, StreamDir, StreamService, StreamView } from '../streams/service';

/** One whole DNS message as one socket sent or received it. */
export interface DnsWireMessage {
  tsNs: number;
  proc: Proc | null;
  sock: SockInfo;
  /** The socket's (view's) id. */
  conn: string;
  dir: Side;
  transport: 'udp' | 'tcp';
  /** A view of the bytes: parse it now. */
  bytes: Uint8Array;
}

/** A TCP message cut off: its framing broke, a gap could not be filled, or the stream stopped inside it. */
export interface DnsStreamFault {
  tsNs: number;
  proc: Proc | null;
  sock: SockInfo;
  dir: Side;
  error: string;
}

export interface DnsMessageStats {
  /** UDP datagrams whose other records never came (lost in the kernel), dropped: counted by the kernel adapter. */
  partialDatagrams: number;
  /** TCP directions given up and reported: a gap not filled, a length over the bound, a message cut. */
  brokenStreams: number;
  /** TCP directions idle past the limit: buffers dropped, place kept. */
  idleStreams: number;
  /** TCP directions pushed out over the cap on views or bytes held: buffers dropped, place kept. */
  evictedStreams: number;
  /** Messages begun and dropped with the buffers of an idle or pushed-out direction. */
  droppedMessages: number;
  /** Kept places dropped over their cap: such a direction, heard again, starts over. */
  forgottenStreams: number;
  /** TCP directions that reached the source's copy limit: their later messages are not seen. */
  limitedStreams: number;
}

export interface DnsMessagesOptions {
  /** The longest TCP message taken (the protocol's own bound is 65535). */
  maxTcpMessage?: number;
  /** TCP views (sockets) tracked with buffers at once. */
  maxStreams?: number;
  /** Bytes all TCP directions may hold together (segments ahead of gaps, messages begun). */
  maxBytes?: number;
  /** A TCP view idle this long is put aside. */
  idleNs?: number;
  /** A direction whose end came ahead of a gap waits this long for the gap. */
  endGraceNs?: number;
  /** Directions put aside, remembered. */
  maxParked?: number;
  /** How long a listener's segments wait for their connection. */
  joinWaitNs?: number;
  /** Capture files: take only what the kernel would have copied. */
  classify?: boolean;
}

type Framers = Partial<Record<Side, DnsTcpFramer>>;
type Out = (DnsWireMessage | DnsStreamFault)[];

/** Sockets that sent a query and received nothing not DNS since, remembered at most (classify). */
const MAX_ASKED = 65536;

export class DnsMessages implements StreamConsumer<Framers, FramerMark> {
  readonly stats: DnsMessageStats = {
    partialDatagrams: 0,
    brokenStreams: 0,
    idleStreams: 0,
    evictedStreams: 0,
    droppedMessages: 0,
    forgottenStreams: 0,
    limitedStreams: 0,
  };
  readonly streams: StreamService<Framers, FramerMark>;
  private out: Out = [];
  private readonly maxTcpMessage: number;
  private readonly classify: boolean;
  /** classify: sockets whose next datagram that is not DNS is taken (as the kernel's per-socket mark). */
  private readonly asked = new Set<string>();

  constructor(o: DnsMessagesOptions = {}) {
    this.maxTcpMessage = o.maxTcpMessage ?? 0xffff;
    this.classify = o.classify === true;
    this.streams = new StreamService<Framers, FramerMark>(this, {
      maxViews: o.maxStreams ?? 4096,
      maxBytes: o.maxBytes ?? 32 << 20,
      maxHeld: this.maxTcpMessage + 2,
      idleNs: o.idleNs ?? 60_000_000_000,
      endGraceNs: o.endGraceNs ?? 10_000_000_000,
      maxRetired: o.maxParked ?? 65536,
      joinWaitNs: o.joinWaitNs ?? 5_000_000_000,
      ...(this.classify ? { classify: (b, k) => startsDnsOverTcp(b, k.clientPort, k.serverPort) } : {}),
    });
  }

  /** Bytes the TCP directions hold now. */
  get heldBytes(): number {
    return this.streams.heldBytes;
  }

  /** The messages (and TCP faults) this segment or datagram completes. */
  push(x: Segment | Datagram): Out {
    const out: Out = [];
    this.out = out;
    this.streams.push(x);
    this.stats.forgottenStreams = this.streams.stats.forgotten;
    return out;
  }

  /** Directions whose end came ahead of a gap that did not fill, and idle views (reported if bytes waited ahead of a gap). */
  expire(nowNs: number): Out {
    const out: Out = [];
    this.out = out;
    this.streams.tick(nowNs);
    this.stats.forgottenStreams = this.streams.stats.forgotten;
    return out;
  }

  /* ---- the stream service's consumer ---- */

  open(): Framers {
    return {};
  }

  openDir(v: StreamView<Framers>, d: StreamDir, mark: FramerMark | undefined): void {
    v.state[d.side] = new DnsTcpFramer(this.maxTcpMessage, mark);
  }

  segment(v: StreamView<Framers>, d: StreamDir, pieces: Uint8Array[], broke: boolean, ended: boolean, at: At): void {
    const f = v.state[d.side]!;
    for (const piece of pieces) {
      const r = f.push(piece);
      for (const m of r.messages) this.out.push(this.message(v, d.side, 'tcp', m, at));
      if (r.error) {
        this.fault(v, d, r.error, at.tsNs);
        return;
      }
    }
    if (broke) {
      this.fault(v, d, 'gap in the TCP stream', at.tsNs);
      return;
    }
    if (!ended) return;
    if (!f.atBoundary) {
      const why = d.cut
        ? 'cut: a packet longer than the kernel copies of one'
        : d.limited
          ? 'cut at the copy limit'
          : 'stream ended inside a message';
      this.fault(v, d, why, at.tsNs);
      return;
    }
    if (d.limited) this.stats.limitedStreams++;
    this.streams.close(v, d);
  }

  datagram(g: DatagramView, at: At): void {
    if (this.classify && !this.copied(g)) return;
    this.out.push(this.message(g, g.side, 'udp', g.bytes.subarray(0, g.len), at));
  }

  buffered(v: StreamView<Framers>): number {
    return (v.state.egress?.buffered ?? 0) + (v.state.ingress?.buffered ?? 0);
  }

  evict(v: StreamView<Framers>, why: 'idle' | 'evicted', nowNs: number): Partial<Record<Side, FramerMark | null>> {
    const marks: Partial<Record<Side, FramerMark | null>> = {};
    for (const d of [v.egress, v.ingress]) {
      if (d === undefined || d.state === 'closed') continue;
      if (why === 'idle' && d.reasm.gap) {
        // Bytes waited ahead of a gap that did not fill: given up, reported.
        this.fault(v, d, 'gap in the TCP stream', nowNs, false);
        marks[d.side] = null;
        continue;
      }
      if (why === 'idle') this.stats.idleStreams++;
      else this.stats.evictedStreams++;
      const p = d.reasm.broken || d.reasm.gap ? null : v.state[d.side]!.park();
      if (p === null) {
        this.stats.droppedMessages++;
        marks[d.side] = null;
        continue;
      }
      if (p.cut) this.stats.droppedMessages++;
      marks[d.side] = p.mark;
    }
    return marks;
  }

  graceOver(v: StreamView<Framers>, d: StreamDir, nowNs: number): void {
    this.fault(v, d, 'gap in the TCP stream', nowNs);
  }

  /* ---- */

  private message(
    v: { sock: SockInfo; conn: string },
    dir: Side,
    transport: 'udp' | 'tcp',
    bytes: Uint8Array,
    at: At,
  ): DnsWireMessage {
    return { tsNs: at.tsNs, proc: at.proc ?? null, sock: v.sock, conn: v.conn, dir, transport, bytes };
  }

  /** Gives a direction up, reported: later segments of it are ignored. */
  private fault(v: StreamView<Framers>, d: StreamDir, error: string, tsNs: number, close = true): void {
    this.stats.brokenStreams++;
    this.out.push({ tsNs, proc: d.proc ?? null, sock: v.sock, dir: d.side, error });
    if (close) this.streams.close(v, d);
  }

  /** classify: whether the kernel would have copied this datagram (sock_payload.bpf.c, on_udp). */
  private copied(g: DatagramView): boolean {
    if (dnsHeaderPlausible(g.bytes, g.len)) {
      if (g.side === 'egress' && (g.bytes[2]! & 0x80) === 0) this.ask(g.key);
      return true;
    }
    // Not DNS: only the first a socket receives after a query it sent.
    if (g.side === 'egress' || g.len === 0 || !this.asked.has(g.key)) return false;
    this.asked.delete(g.key);
    return true;
  }

  private ask(key: string): void {
    this.asked.delete(key);
    this.asked.add(key);
    if (this.asked.size > MAX_ASKED) {
      const first = this.asked.values().next().value;
      if (first !== undefined) this.asked.delete(first);
    }
  }
}
