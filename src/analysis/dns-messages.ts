/**
 * DNS messages from the kernel's payload records: a UDP datagram is one
 * message (put back together when the kernel split it over records); a TCP
 * connection's directions are put in order (StreamReassembler) and framed by
 * their two-byte lengths (DnsTcpFramer). Bounded: datagrams waiting for their
 * other records and TCP directions are capped, and idle ones dropped; what is
 * dropped is counted. Pure (no I/O); never throws on bytes.
 */
import { PayloadChunk } from '../events/sock-payload';
import { ProcInfo, SockInfo } from '../events/record';
import { DnsTcpFramer } from '../protocols/dns';
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

/** A TCP message cut off: its framing broke, or a gap could not be filled. */
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
  /** TCP directions given up: a gap not filled, or a length over the bound. */
  brokenStreams: number;
  /** TCP directions dropped while idle or over the cap. */
  evictedStreams: number;
}

interface Partial {
  first: PayloadChunk;
  buf: Uint8Array;
  filled: number;
}

interface TcpDir {
  reasm: StreamReassembler;
  framer: DnsTcpFramer;
  lastNs: bigint;
}

export interface DnsMessagesOptions {
  /** The longest TCP message taken (the protocol's own bound is 65535). */
  maxTcpMessage?: number;
  /** TCP directions tracked at once. */
  maxStreams?: number;
  /** A TCP direction idle this long is dropped. */
  idleNs?: bigint;
}

const PARTIAL_TTL_NS = 1_000_000_000n;
const MAX_PARTIALS = 256;

export class DnsMessages {
  readonly stats: DnsMessageStats = { partialDatagrams: 0, brokenStreams: 0, evictedStreams: 0 };
  private readonly partials = new Map<string, Partial>();
  private readonly streams = new Map<string, TcpDir>();
  private readonly maxTcpMessage: number;
  private readonly maxStreams: number;
  private readonly idleNs: bigint;

  constructor(o: DnsMessagesOptions = {}) {
    this.maxTcpMessage = o.maxTcpMessage ?? 0xffff;
    this.maxStreams = o.maxStreams ?? 4096;
    this.idleNs = o.idleNs ?? 60_000_000_000n;
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
    let s = this.streams.get(key);
    if (!s) {
      if (c.bytes.length === 0) return []; // a FIN or RST of a direction never seen
      if (this.streams.size >= this.maxStreams) this.evictOldest();
      s = { reasm: new StreamReassembler(this.maxTcpMessage + 2), framer: new DnsTcpFramer(this.maxTcpMessage), lastNs: c.tsNs };
      this.streams.set(key, s);
    } else {
      // Most recently used last, for eviction.
      this.streams.delete(key);
      this.streams.set(key, s);
    }
    s.lastNs = c.tsNs;
    const out: (DnsWireMessage | DnsStreamFault)[] = [];
    const fault = (error: string): void => {
      this.stats.brokenStreams++;
      out.push({ tsNs: c.tsNs, proc: c.proc, sock: c.sock, dir: c.dir, error });
      this.streams.delete(key);
    };
    const wasBroken = s.reasm.broken;
    for (const piece of s.reasm.push(c.stream + c.off, c.bytes)) {
      const r = s.framer.push(piece);
      for (const m of r.messages) out.push(this.message(c, m));
      if (r.error) {
        fault(r.error);
        return out;
      }
    }
    if (!wasBroken && s.reasm.broken) fault('gap in the TCP stream');
    else if (c.fin || c.rst) this.streams.delete(key);
    return out;
  }

  private evictOldest(): void {
    const k = this.streams.keys().next().value;
    if (k !== undefined) this.streams.delete(k);
    this.stats.evictedStreams++;
  }

  /** Drops datagrams still missing records and idle TCP directions. */
  expire(nowNs: bigint): void {
    for (const [k, p] of this.partials) {
      if (nowNs - p.first.tsNs < PARTIAL_TTL_NS) break;
      this.partials.delete(k);
      this.stats.partialDatagrams++;
    }
    for (const [k, s] of this.streams) {
      if (nowNs - s.lastNs < this.idleNs) break;
      this.streams.delete(k);
    }
  }
}
