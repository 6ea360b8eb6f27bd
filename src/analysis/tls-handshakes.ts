/**
 * TLS handshakes from the first bytes of each direction of each local
 * socket's connection: the ClientHello one way, the ServerHello the other,
 * each gathered in stream order (StreamReassembler, TlsHelloGatherer), so a
 * hello split over segments or writes is whole again. One record per socket:
 * the one that sent the ClientHello is the client side, the one that received
 * it the server side (on loopback both are here, each with its own process).
 * A record is made when both hellos are in, when one is malformed, when the
 * direction that owes a hello has ended (its FIN delivered in order, an RST,
 * the kernel's copy limit), or when the ServerHello does not come within the
 * timeout. A connection is reported once: those decided are remembered (a
 * bounded number), so a hello that comes after its timeout is not a record
 * of its own. Segments a listener saw join their connection first
 * (ListenerJoin). Pure (no I/O); bounded: connections tracked at once, bytes
 * held out of order (per direction, the hello's bound; in all, maxBytes)
 * have caps; what is evicted is counted.
 */
import { PayloadChunk } from '../events/sock-payload';
import { ProcInfo, SockInfo } from '../events/record';
import { ClientHello, DEFAULT_MAX_HELLO, HelloResult, ServerHello, TlsHelloGatherer } from '../protocols/tls';
import { ListenerJoin } from './listener-join';
import { StreamReassembler } from './tcp-reassembly';

export type TlsStatus = 'ok' | 'no_server_hello' | 'no_client_hello' | 'malformed';

export interface TlsHandshake {
  /** The ClientHello's time (the ServerHello's when only that came). */
  tsNs: bigint;
  side: 'client' | 'server';
  /** Client side: the process that sent the ClientHello; server side: the one that sent the ServerHello. */
  proc: ProcInfo | null;
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

interface Direction {
  reasm: StreamReassembler;
  gatherer: TlsHelloGatherer;
  result: HelloResult | undefined;
  tsNs: bigint;
  proc: ProcInfo | null;
  /** Where the direction ends (FIN, RST, copy limit), once known. */
  endAt: number | undefined;
}

interface Conn {
  cookie: bigint;
  sock: SockInfo;
  egress: Direction | undefined;
  ingress: Direction | undefined;
  firstNs: bigint;
  /** An RST: neither direction says more. */
  reset: boolean;
  /** Bytes held, as last counted into the total. */
  buffered: number;
}

export interface TlsHandshakesOptions {
  timeoutNs: bigint;
  /** Bound on a hello (the gatherer's). */
  maxHello?: number;
  maxConns?: number;
  /** Bytes all connections may hold together (segments ahead of gaps, hellos begun). */
  maxBytes?: number;
  /** Decided connections remembered. */
  maxDecided?: number;
}

/** Room for the record headers around a hello, beyond its own bound, in what a direction holds out of order. */
const RECORD_HEADERS_ROOM = 1024;

export class TlsHandshakes {
  readonly stats: TlsStats = { handshakes: 0, malformed: 0, notTls: 0, evicted: 0 };
  readonly join: ListenerJoin;
  /** Insertion order is first-seen order: the oldest come first. */
  private readonly conns = new Map<bigint, Conn>();
  /** Connections holding bytes, in the order they began to: the oldest are pushed out first. */
  private readonly buffering = new Map<bigint, Conn>();
  /** Connections reported (or given up), oldest first. */
  private readonly decided = new Set<bigint>();
  private bytes = 0;
  private readonly timeoutNs: bigint;
  private readonly maxHello: number | undefined;
  private readonly maxHeld: number;
  private readonly maxConns: number;
  private readonly maxBytes: number;
  private readonly maxDecided: number;

  constructor(o: TlsHandshakesOptions) {
    this.timeoutNs = o.timeoutNs;
    this.maxHello = o.maxHello;
    this.maxHeld = (o.maxHello ?? DEFAULT_MAX_HELLO) + RECORD_HEADERS_ROOM;
    this.maxConns = o.maxConns ?? 16384;
    this.maxBytes = o.maxBytes ?? 32 << 20;
    this.maxDecided = o.maxDecided ?? 65536;
    this.join = new ListenerJoin(o.timeoutNs);
  }

  /** Bytes the connections hold now. */
  get heldBytes(): number {
    return this.bytes;
  }

  /** The handshake records this kernel record completes, if any. */
  push(c: PayloadChunk): TlsHandshake[] {
    const out: TlsHandshake[] = [];
    for (const x of this.join.push(c)) out.push(...this.take(x));
    return out;
  }

  private take(c: PayloadChunk): TlsHandshake[] {
    if (this.decided.has(c.conn)) return [];
    let conn = this.conns.get(c.conn);
    if (!conn) {
      if (c.bytes.length === 0) return []; // a FIN or RST of a connection never seen
      if (this.conns.size >= this.maxConns) this.evictOldest();
      conn = {
        cookie: c.conn,
        sock: c.sock,
        egress: undefined,
        ingress: undefined,
        firstNs: c.tsNs,
        reset: false,
        buffered: 0,
      };
      this.conns.set(c.conn, conn);
    }
    if (c.rst) conn.reset = true;
    let d = conn[c.dir];
    if (!d) {
      d = {
        reasm: new StreamReassembler(this.maxHeld),
        gatherer: new TlsHelloGatherer(this.maxHello),
        result: undefined,
        tsNs: c.tsNs,
        proc: c.proc,
        endAt: undefined,
      };
      conn[c.dir] = d;
    }
    if (c.fin || c.rst || c.limit) {
      const end = c.stream + c.len;
      if (d.endAt === undefined || end < d.endAt) d.endAt = end;
    }
    if (d.result === undefined) {
      for (const piece of d.reasm.push(c.stream + c.off, c.bytes)) {
        d.result = d.gatherer.push(piece);
        if (d.result) break;
      }
      if (d.result === undefined && d.reasm.broken) d.result = { kind: 'malformed', error: 'truncated' };
      // The direction ended, all of it in: a hello begun is cut short; none begun is no hello.
      if (d.result === undefined && this.ended(conn, d)) d.result = d.gatherer.finish();
      // Time and process of the packet that completed the hello.
      if (d.result) {
        d.tsNs = c.tsNs;
        d.proc = c.proc ?? d.proc;
      }
    }
    const done = this.decide(conn, false);
    if (done) {
      this.settle(conn);
      return done;
    }
    this.account(conn);
    return [];
  }

  /** Connections whose ServerHello is overdue, and listener segments whose connection never showed. */
  tick(nowNs: bigint): TlsHandshake[] {
    const out: TlsHandshake[] = [];
    for (const c of this.join.expire(nowNs)) out.push(...this.take(c));
    for (const conn of this.conns.values()) {
      if (nowNs - conn.firstNs < this.timeoutNs) break;
      this.settle(conn);
      // Given up on: a hello begun and not finished is cut short.
      for (const d of [conn.egress, conn.ingress]) if (d && d.result === undefined) d.result = d.gatherer.finish();
      out.push(...(this.decide(conn, true) ?? []));
    }
    return out;
  }

  /** Connections still waiting for a hello at the end. */
  get waiting(): number {
    return this.conns.size;
  }

  /** Whether a direction has said all it will: its end delivered in order, or the connection reset. */
  private ended(conn: Conn, d: Direction | undefined): boolean {
    if (conn.reset) return true;
    return d !== undefined && d.endAt !== undefined && d.reasm.delivered >= d.endAt;
  }

  private evictOldest(): void {
    const oldest = this.conns.values().next().value;
    if (oldest) this.settle(oldest);
    this.stats.evicted++;
  }

  /** A connection is done with: dropped, and remembered so that later records of it are ignored. */
  private settle(conn: Conn): void {
    this.conns.delete(conn.cookie);
    this.buffering.delete(conn.cookie);
    this.bytes -= conn.buffered;
    conn.buffered = 0;
    this.decided.add(conn.cookie);
    while (this.decided.size > this.maxDecided) {
      const first = this.decided.values().next().value;
      if (first === undefined) break;
      this.decided.delete(first);
    }
  }

  /** Counts what a connection holds into the total; over the budget, the oldest holders are dropped. */
  private account(conn: Conn): void {
    let now = 0;
    for (const d of [conn.egress, conn.ingress]) if (d) now += d.reasm.heldBytes + d.gatherer.buffered;
    this.bytes += now - conn.buffered;
    conn.buffered = now;
    if (now === 0) this.buffering.delete(conn.cookie);
    else if (!this.buffering.has(conn.cookie)) this.buffering.set(conn.cookie, conn);
    while (this.bytes > this.maxBytes) {
      const oldest = this.buffering.values().next().value;
      if (!oldest) break;
      this.settle(oldest);
      this.stats.evicted++;
    }
  }

  /**
   * A record once the connection has said what it will; undefined while
   * waiting. A hello's absence is concluded when the direction that owes it
   * has ended, or (`timedOut`) at the timeout.
   */
  private decide(conn: Conn, timedOut: boolean): TlsHandshake[] | undefined {
    const hellos = [conn.egress, conn.ingress];
    const client = hellos.find((d) => d?.result?.kind === 'client_hello');
    const server = hellos.find((d) => d?.result?.kind === 'server_hello');
    const bad = hellos.find((d) => d?.result?.kind === 'malformed');
    const notTls = hellos.some((d) => d?.result?.kind === 'not_tls');
    if (client && server) return [this.record(conn, client, server, 'ok', null)];
    if (bad) {
      const r = bad.result as { kind: 'malformed'; error: string };
      const which = bad === conn.egress ? 'sent' : 'received';
      return [this.record(conn, client, server, 'malformed', `${r.error} (hello ${which})`)];
    }
    if (notTls && !client && !server) {
      this.stats.notTls++;
      return [];
    }
    const other = (d: Direction): boolean =>
      timedOut || this.ended(conn, d === conn.egress ? conn.ingress : conn.egress);
    if (client) return other(client) ? [this.record(conn, client, undefined, 'no_server_hello', null)] : undefined;
    if (server) return other(server) ? [this.record(conn, undefined, server, 'no_client_hello', null)] : undefined;
    if (timedOut || (this.ended(conn, conn.egress) && this.ended(conn, conn.ingress))) return [];
    return undefined;
  }

  private record(
    conn: Conn,
    client: Direction | undefined,
    server: Direction | undefined,
    status: TlsStatus,
    error: string | null,
  ): TlsHandshake {
    this.stats.handshakes++;
    if (status === 'malformed') this.stats.malformed++;
    const ch = client?.result?.kind === 'client_hello' ? client.result.hello : null;
    const sh = server?.result?.kind === 'server_hello' ? server.result.hello : null;
    // The socket that sends the ClientHello is the client (or the one that receives the ServerHello).
    const isClient = client ? client === conn.egress : server ? server === conn.ingress : conn.egress !== undefined;
    const own = isClient ? (client ?? conn.egress) : (server ?? conn.egress ?? conn.ingress);
    const first = client ?? server ?? conn.egress ?? conn.ingress;
    return {
      tsNs: first?.tsNs ?? conn.firstNs,
      side: isClient ? 'client' : 'server',
      proc: own?.proc ?? first?.proc ?? null,
      sock: conn.sock,
      status,
      client: ch,
      server: sh,
      helloNs: client && server ? Number(server.tsNs - client.tsNs) : null,
      error,
    };
  }
}
