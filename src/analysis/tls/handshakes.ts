/**
 * TLS handshakes from the first bytes of each direction of each socket's
 * connection (Segments from any source, in stream order from the stream
 * service): the ClientHello one way, the ServerHello the other, each
 * gathered (TlsHelloGatherer), so a hello split over segments or writes is
 * whole again. One record per socket (view): the one that sent the
 * ClientHello is the client side, the one that received it the server side
 * (on loopback both are here, each with its own process; the wire gives
 * both). A record is made when both hellos are in, when one is malformed,
 * when the direction that owes a hello has ended (its FIN in order, an RST,
 * the source's copy limit), or when the ServerHello does not come within
 * the timeout (the data's clock). A connection is reported once: those
 * decided are remembered (a bounded number), so a hello that comes after
 * its timeout is not a record of its own. Pure (no I/O); bounded: views
 * tracked at once, bytes held out of order (per direction, the hello's
 * bound; in all, maxBytes) have caps; what is evicted is counted.
 */
import type { Proc } from '../../model/packet';
import type { Datagram, Segment } from '../../model/segment';
import { SockInfo } from '../../events/record';
import {
  ClientHello,
  DEFAULT_MAX_HELLO,
  HelloResult,
  ServerHello,
  TlsHelloGatherer,
  looksLikeTlsHandshake,
} from '../../protocols/tls';
import { ListenerJoin } from '../streams/listener-join';
import { At, Side, StreamConsumer, StreamDir, StreamService, StreamView } from '../streams/service';

export type TlsStatus = 'ok' | 'no_server_hello' | 'no_client_hello' | 'malformed';

export interface TlsHandshake {
  /** The ClientHello's time (the ServerHello's when only that came). */
  tsNs: number;
  side: 'client' | 'server';
  /** Client side: the process that sent the ClientHello; server side: the one that sent the ServerHello. */
  proc: Proc | null;
  /** This host's socket: local end in saddr/sport. */
  sock: SockInfo;
  status: TlsStatus;
  client: ClientHello | null;
  server: ServerHello | null;
  /** ClientHello to ServerHello, as this socket saw them. */
  helloNs: number | null;
  /** malformed: the reason, and which hello. */
  error: string | null;
}

export interface TlsStats {
  handshakes: number;
  malformed: number;
  /** Connections whose first bytes looked like TLS to the kernel and were not (after the first few bytes). */
  notTls: number;
  /** Connections dropped over the cap on connections or on bytes held. */
  evicted: number;
}

interface Hello {
  gatherer: TlsHelloGatherer;
  result: HelloResult | undefined;
  tsNs: number;
  proc: Proc | undefined;
}

interface Conn {
  egress: Hello | undefined;
  ingress: Hello | undefined;
}

export interface TlsHandshakesOptions {
  timeoutNs: number;
  /** Bound on a hello (the gatherer's). */
  maxHello?: number;
  maxConns?: number;
  /** Bytes all connections may hold together (segments ahead of gaps, hellos begun). */
  maxBytes?: number;
  /** Decided connections remembered. */
  maxDecided?: number;
  /** Capture files: take only connections whose first payload begins a TLS handshake record (as the kernel judges). */
  classify?: boolean;
}

/** Room for the record headers around a hello, beyond its own bound, in what a direction holds out of order. */
const RECORD_HEADERS_ROOM = 1024;

/** The kernel's test of a connection's first payload (sock_payload.bpf.c, classify): a handshake record's start. */
function startsTls(b: Uint8Array): boolean {
  return looksLikeTlsHandshake(b.subarray(0, 3)) && (b.length < 6 || b[5] === 1 || b[5] === 2);
}

export class TlsHandshakes implements StreamConsumer<Conn, never> {
  readonly stats: TlsStats = { handshakes: 0, malformed: 0, notTls: 0, evicted: 0 };
  readonly streams: StreamService<Conn, never>;
  /** Views waiting for a hello, in the order they were first seen (for the timeout). */
  private readonly waitingViews = new Map<string, StreamView<Conn>>();
  private out: TlsHandshake[] = [];
  private readonly timeoutNs: number;
  private readonly maxHello: number | undefined;

  constructor(o: TlsHandshakesOptions) {
    this.timeoutNs = o.timeoutNs;
    this.maxHello = o.maxHello;
    this.streams = new StreamService<Conn, never>(this, {
      maxViews: o.maxConns ?? 16384,
      maxBytes: o.maxBytes ?? 32 << 20,
      maxHeld: (o.maxHello ?? DEFAULT_MAX_HELLO) + RECORD_HEADERS_ROOM,
      maxRetired: o.maxDecided ?? 65536,
      joinWaitNs: o.timeoutNs,
      startOnEnd: true,
      ...(o.classify ? { classify: startsTls } : {}),
    });
  }

  /** Segments a listener saw, joined to their connections (or not). */
  get join(): ListenerJoin {
    return this.streams.join;
  }

  /** Bytes the connections hold now. */
  get heldBytes(): number {
    return this.streams.heldBytes;
  }

  /** Connections still waiting for a hello. */
  get waiting(): number {
    return this.streams.size;
  }

  /** The handshake records this segment completes, if any. */
  push(x: Segment | Datagram): TlsHandshake[] {
    const out: TlsHandshake[] = [];
    this.out = out;
    this.streams.push(x);
    return out;
  }

  /** Connections whose ServerHello is overdue, and listener segments whose connection never showed. */
  tick(nowNs: number): TlsHandshake[] {
    const out: TlsHandshake[] = [];
    this.out = out;
    this.streams.tick(nowNs);
    for (const v of this.waitingViews.values()) {
      if (nowNs - v.firstNs < this.timeoutNs) break;
      this.settle(v);
      // Given up on: a hello begun and not finished is cut short.
      for (const h of [v.state.egress, v.state.ingress])
        if (h && h.result === undefined) h.result = h.gatherer.finish();
      out.push(...(this.decide(v, true) ?? []));
    }
    return out;
  }

  /* ---- the stream service's consumer ---- */

  open(v: StreamView<Conn>): Conn {
    this.waitingViews.set(v.key, v);
    return { egress: undefined, ingress: undefined };
  }

  openDir(v: StreamView<Conn>, d: StreamDir, _mark: undefined, at: At): void {
    v.state[d.side] = {
      gatherer: new TlsHelloGatherer(this.maxHello),
      result: undefined,
      tsNs: at.tsNs,
      proc: at.proc,
    };
  }

  segment(v: StreamView<Conn>, d: StreamDir, pieces: Uint8Array[], broke: boolean, ended: boolean, at: At): void {
    const h = v.state[d.side]!;
    if (h.result === undefined) {
      for (const piece of pieces) {
        h.result = h.gatherer.push(piece);
        if (h.result) break;
      }
      if (h.result === undefined && broke) h.result = { kind: 'malformed', error: 'truncated' };
      // The direction ended, all of it in: a hello begun is cut short; none begun is no hello.
      if (h.result === undefined && (ended || v.reset)) h.result = h.gatherer.finish();
      // Time and process of the packet that completed the hello.
      if (h.result) {
        h.tsNs = at.tsNs;
        h.proc = at.proc ?? h.proc;
        this.streams.done(v, d);
      }
    }
    const done = this.decide(v, false);
    if (done) {
      this.settle(v);
      this.out.push(...done);
    }
  }

  buffered(v: StreamView<Conn>): number {
    return (v.state.egress?.gatherer.buffered ?? 0) + (v.state.ingress?.gatherer.buffered ?? 0);
  }

  evict(v: StreamView<Conn>): null {
    this.stats.evicted++;
    this.waitingViews.delete(v.key);
    return null;
  }

  /* ---- */

  private settle(v: StreamView<Conn>): void {
    this.waitingViews.delete(v.key);
    this.streams.settle(v);
  }

  /** Whether the direction owing a hello has said all it will. */
  private ended(v: StreamView<Conn>, side: Side): boolean {
    return v.state[side]?.result !== undefined || this.streams.ended(v, v[side]);
  }

  /**
   * A record once the connection has said what it will; undefined while
   * waiting. A hello's absence is concluded when the direction that owes it
   * has ended, or (`timedOut`) at the timeout.
   */
  private decide(v: StreamView<Conn>, timedOut: boolean): TlsHandshake[] | undefined {
    const conn = v.state;
    const hellos = [conn.egress, conn.ingress];
    const client = hellos.find((d) => d?.result?.kind === 'client_hello');
    const server = hellos.find((d) => d?.result?.kind === 'server_hello');
    const bad = hellos.find((d) => d?.result?.kind === 'malformed');
    const notTls = hellos.some((d) => d?.result?.kind === 'not_tls');
    if (client && server) return [this.record(v, client, server, 'ok', null)];
    if (bad) {
      const r = bad.result as { kind: 'malformed'; error: string };
      const which = bad === conn.egress ? 'sent' : 'received';
      return [this.record(v, client, server, 'malformed', `${r.error} (hello ${which})`)];
    }
    if (notTls && !client && !server) {
      this.stats.notTls++;
      return [];
    }
    const other = (h: Hello): boolean => timedOut || this.ended(v, h === conn.egress ? 'ingress' : 'egress');
    if (client) return other(client) ? [this.record(v, client, undefined, 'no_server_hello', null)] : undefined;
    if (server) return other(server) ? [this.record(v, undefined, server, 'no_client_hello', null)] : undefined;
    if (timedOut || (this.ended(v, 'egress') && this.ended(v, 'ingress'))) return [];
    return undefined;
  }

  private record(
    v: StreamView<Conn>,
    client: Hello | undefined,
    server: Hello | undefined,
    status: TlsStatus,
    error: string | null,
  ): TlsHandshake {
    const conn = v.state;
    this.stats.handshakes++;
    if (status === 'malformed') this.stats.malformed++;
    const ch = client?.result?.kind === 'client_hello' ? client.result.hello : null;
    const sh = server?.result?.kind === 'server_hello' ? server.result.hello : null;
    // The socket that sends the ClientHello is the client (or the one that receives the ServerHello).
    const isClient = client ? client === conn.egress : server ? server === conn.ingress : conn.egress !== undefined;
    const own = isClient ? (client ?? conn.egress) : (server ?? conn.egress ?? conn.ingress);
    const first = client ?? server ?? conn.egress ?? conn.ingress;
    return {
      tsNs: first?.tsNs ?? v.firstNs,
      side: isClient ? 'client' : 'server',
      proc: own?.proc ?? first?.proc ?? null,
      sock: v.sock,
      status,
      client: ch,
      server: sh,
      helloNs: client && server ? server.tsNs - client.tsNs : null,
      error,
    };
  }
}
