/**
 * The kernel's socket-payload records (struct wl_sp_event,
 * bpf/sock_payload.bpf.c, decoded by src/events/sock-payload) as the
 * Segments and Datagrams every stream analyzer takes: the same model a
 * capture file gives through the flow tracker.
 *
 *  - a TCP record is a Segment of its socket's view (observer 'socket',
 *    `local` the socket's end): its bytes at stream + off, covering up to
 *    where the packet's copied bytes end (stream + len), with the kernel's
 *    FIN, RST, copy limit (`end` 'limit', or 'cut' inside a packet longer
 *    than it copies of one) and listener flags. Client and server are
 *    guessed from the ports (the record does not say who connected);
 *  - a UDP datagram the kernel split over several records (it copies 4 KiB
 *    per record) is put back together first: a Datagram is whole. Records
 *    whose siblings never come are dropped after a second, counted;
 *  - times stay the kernel's: CLOCK_MONOTONIC ns as a number (src/model/time);
 *    output/clock prints them as wall time.
 *
 * Pure; never throws on a record.
 */
import { looksLikeServerPort, type FlowKey } from '../../model/flow';
import type { Datagram, Segment, StreamEnd } from '../../model/segment';
import type { PayloadChunk } from '../../events/sock-payload';
import type { SockInfo } from '../../events/record';

export interface KernelSegmentsStats {
  /** UDP datagrams whose other records never came (lost in the kernel), dropped. */
  partialDatagrams: number;
}

interface Partial {
  first: PayloadChunk;
  buf: Uint8Array;
  filled: number;
}

const PARTIAL_TTL_NS = 1e9;
const MAX_PARTIALS = 256;
/** Flow keys kept per socket (one object per connection, as the flow tracker gives). */
const MAX_KEYS = 4096;

export class KernelSegments {
  readonly stats: KernelSegmentsStats = { partialDatagrams: 0 };
  private readonly partials = new Map<string, Partial>();
  private readonly keys = new Map<number, { sock: SockInfo; key: FlowKey; local: 'client' | 'server' }>();

  /** The segment or datagram a record gives, if it completes one. */
  push(c: PayloadChunk): Segment | Datagram | undefined {
    if (c.transport === 'tcp') return this.segment(c);
    if (c.off === 0 && c.bytes.length >= c.len) return this.datagram(c, c.bytes.subarray(0, c.len));
    // A datagram over several records: its records share the packet's time, socket and direction.
    const key = `${c.conn}/${c.dir}/${c.tsNs}`;
    let p = this.partials.get(key);
    if (!p) {
      if (this.partials.size >= MAX_PARTIALS) this.dropOldestPartial();
      p = { first: c, buf: new Uint8Array(c.len), filled: 0 };
      this.partials.set(key, p);
    }
    if (c.off + c.bytes.length > p.buf.length) return undefined;
    p.buf.set(c.bytes, c.off);
    p.filled += c.bytes.length;
    if (p.filled < p.buf.length) return undefined;
    this.partials.delete(key);
    return this.datagram(p.first, p.buf);
  }

  /** Drops datagrams still missing records a second after their first (`nowNs`: the kernel's clock). */
  expire(nowNs: number): void {
    for (const [k, p] of this.partials) {
      if (nowNs - p.first.tsNs < PARTIAL_TTL_NS) break;
      this.partials.delete(k);
      this.stats.partialDatagrams++;
    }
  }

  private dropOldestPartial(): void {
    const k = this.partials.keys().next().value;
    if (k !== undefined) this.partials.delete(k);
    this.stats.partialDatagrams++;
  }

  /** The connection's key, the same object for all its records while its ends stay. */
  private keyOf(c: PayloadChunk): { key: FlowKey; local: 'client' | 'server' } {
    const s = c.sock;
    const had = this.keys.get(c.conn);
    if (had && sameEnds(had.sock, s)) return had;
    const server = looksLikeServerPort(s.sport, s.dport);
    const key: FlowKey = {
      family: s.family,
      protocol: c.transport,
      clientAddr: server ? s.daddr : s.saddr,
      clientPort: server ? s.dport : s.sport,
      serverAddr: server ? s.saddr : s.daddr,
      serverPort: server ? s.sport : s.dport,
      netns: s.netns,
    };
    const e = { sock: s, key, local: server ? ('server' as const) : ('client' as const) };
    if (this.keys.size >= MAX_KEYS) this.keys.clear();
    this.keys.set(c.conn, e);
    return e;
  }

  private segment(c: PayloadChunk): Segment {
    const { key, local } = this.keyOf(c);
    const end: StreamEnd | undefined = c.cut ? 'cut' : c.limit ? 'limit' : c.rst ? 'rst' : c.fin ? 'fin' : undefined;
    const s: Segment = {
      kind: 'segment',
      key,
      conn: c.conn,
      dir: (c.dir === 'egress') === (local === 'client') ? 'c2s' : 's2c',
      roles: 'ports',
      offset: c.stream + c.off,
      len: Math.max(0, c.len - c.off),
      bytes: c.bytes,
      gap: 0,
      syn: false,
      fin: c.fin,
      rst: c.rst,
      midStream: false,
      end,
      tsNs: c.tsNs,
      proc: c.proc ?? undefined,
      netns: c.sock.netns,
      observer: 'socket',
      local,
    };
    if (c.listener) s.listener = true;
    return s;
  }

  private datagram(c: PayloadChunk, bytes: Uint8Array): Datagram {
    const { key, local } = this.keyOf(c);
    return {
      kind: 'datagram',
      key,
      conn: c.conn,
      dir: (c.dir === 'egress') === (local === 'client') ? 'c2s' : 's2c',
      roles: 'ports',
      len: bytes.length,
      bytes,
      tsNs: c.tsNs,
      proc: c.proc ?? undefined,
      netns: c.sock.netns,
      observer: 'socket',
      local,
    };
  }
}

function sameEnds(a: SockInfo, b: SockInfo): boolean {
  return (
    a.netns === b.netns &&
    a.sport === b.sport &&
    a.dport === b.dport &&
    a.saddr === b.saddr &&
    a.daddr === b.daddr &&
    a.protocol === b.protocol
  );
}
