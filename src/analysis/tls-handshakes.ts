/**
 * TLS handshakes from the first bytes of each direction of each local
 * socket's connection: the ClientHello one way, the ServerHello the other,
 * each gathered in stream order (StreamReassembler, TlsHelloGatherer), so a
 * hello split over segments or writes is whole again. One record per socket:
 * the one that sent the ClientHello is the client side, the one that received
 * it the server side (on loopback both are here, each with its own process).
 * A record is made when both hellos are in, when one is malformed, when the
 * connection ends first, or when the ServerHello does not come within the
 * timeout. Pure (no I/O); bounded: connections tracked at once have a cap;
 * what is evicted is counted.
 */
import { PayloadChunk } from '../events/sock-payload';
import { ProcInfo, SockInfo } from '../events/record';
import { ClientHello, HelloResult, ServerHello, TlsHelloGatherer } from '../protocols/tls';
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
  evicted: number;
}

interface Direction {
  reasm: StreamReassembler;
  gatherer: TlsHelloGatherer;
  result: HelloResult | undefined;
  tsNs: bigint;
  proc: ProcInfo | null;
}

interface Conn {
  sock: SockInfo;
  egress: Direction | undefined;
  ingress: Direction | undefined;
  firstNs: bigint;
}

export interface TlsHandshakesOptions {
  timeoutNs: bigint;
  /** Bound on a hello (the gatherer's). */
  maxHello?: number;
  maxConns?: number;
}

export class TlsHandshakes {
  readonly stats: TlsStats = { handshakes: 0, malformed: 0, notTls: 0, evicted: 0 };
  /** Insertion order is first-seen order: the oldest come first. */
  private readonly conns = new Map<bigint, Conn>();
  private readonly timeoutNs: bigint;
  private readonly maxHello: number | undefined;
  private readonly maxConns: number;

  constructor(o: TlsHandshakesOptions) {
    this.timeoutNs = o.timeoutNs;
    this.maxHello = o.maxHello;
    this.maxConns = o.maxConns ?? 16384;
  }

  /** The handshake record this kernel record completes, if any. */
  push(c: PayloadChunk): TlsHandshake[] {
    let conn = this.conns.get(c.conn);
    if (!conn) {
      if (c.bytes.length === 0) return [];
      if (this.conns.size >= this.maxConns) this.evictOldest();
      conn = { sock: c.sock, egress: undefined, ingress: undefined, firstNs: c.tsNs };
      this.conns.set(c.conn, conn);
    }
    let d = conn[c.dir];
    if (!d) {
      d = { reasm: new StreamReassembler(), gatherer: new TlsHelloGatherer(this.maxHello), result: undefined, tsNs: c.tsNs, proc: c.proc };
      conn[c.dir] = d;
    }
    if (d.result === undefined) {
      for (const piece of d.reasm.push(c.stream + c.off, c.bytes)) {
        d.result = d.gatherer.push(piece);
        if (d.result) break;
      }
      if (d.result === undefined && d.reasm.broken) d.result = { kind: 'malformed', error: 'truncated' };
      // The direction ended: a hello begun is cut short; none begun is no hello.
      if (d.result === undefined && (c.fin || c.rst)) d.result = d.gatherer.finish();
      // Time and process of the packet that completed the hello.
      if (d.result) {
        d.tsNs = c.tsNs;
        d.proc = c.proc ?? d.proc;
      }
    }
    const done = this.decide(conn, c.fin || c.rst);
    if (done) {
      this.conns.delete(c.conn);
      return done;
    }
    return [];
  }

  /** Connections whose ServerHello is overdue. */
  tick(nowNs: bigint): TlsHandshake[] {
    const out: TlsHandshake[] = [];
    for (const [k, conn] of this.conns) {
      if (nowNs - conn.firstNs < this.timeoutNs) break;
      this.conns.delete(k);
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

  private evictOldest(): void {
    const k = this.conns.keys().next().value;
    if (k !== undefined) this.conns.delete(k);
    this.stats.evicted++;
  }

  /** A record once the connection has said what it will; undefined while waiting. `ended`: no more is coming. */
  private decide(conn: Conn, ended: boolean): TlsHandshake[] | undefined {
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
    if (!ended) return undefined;
    if (client) return [this.record(conn, client, undefined, 'no_server_hello', null)];
    if (server) return [this.record(conn, undefined, server, 'no_client_hello', null)];
    return [];
  }

  private record(conn: Conn, client: Direction | undefined, server: Direction | undefined, status: TlsStatus, error: string | null): TlsHandshake {
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
