/**
 * `wirelens tcp` records from packets (capture files): what tcp_life.bpf.c
 * reads from the kernel's socket states, derived from each connection's
 * TCP headers as one end saw them (a socket-hook capture: the local socket;
 * the wire: both ends, with the capture point's times).
 *
 *  - open: the client (active) when the SYN-ACK comes, the server (passive)
 *    when the client's ACK of it comes (the handshake done; live reports the
 *    passive open at accept());
 *  - close: an end that sent its FIN, had it acknowledged and got the
 *    peer's FIN (the first closer as it enters TIME_WAIT, the second as its
 *    LAST_ACK is acknowledged), or that sent or received an RST; with its
 *    lifetime from the SYN (null when the capture began later), and the
 *    payload bytes each way as far as the sequence numbers went (repeats not
 *    counted, bytes the capture missed counted). A client whose SYN got an
 *    RST closes `failed`; a server has a socket (and a record) only once its
 *    handshake is done;
 *  - retransmit: a packet the flow tracker found repeating bytes already
 *    seen (and a repeated SYN or SYN-ACK), on its sender's view;
 *  - reset: an RST, `sent` on its sender's view, `received` on the other.
 *
 * What only the kernel knows is not given: the socket's RTT, losses and
 * congestion window (health null), drops and RTT samples. Connections
 * still open when the input ends, or idle for `idleNs`, get no close.
 * Pure; time is the packets'; bounded (connections tracked, least recently
 * active pushed out, counted).
 */
import { looksLikeServerPort } from '../../model/flow';
import type { Proc } from '../../model/packet';
import type { SockInfo } from '../../events/record';
import type { TcpEventKind, TcpRecord } from '../../events/tcp';
import type { TcpNote } from '../../net/packet-streams';

type End = 'client' | 'server';

interface Dir {
  started: boolean;
  /** Sequence number of the first payload byte (ISN + 1). */
  base: number;
  /** Sequence number after the highest byte seen. */
  high: number;
  /** Payload bytes as far as the sequence numbers went. */
  bytes: number;
  /** Sequence number of its FIN, once sent. */
  finSeq: number | undefined;
  finNs: number | undefined;
  finAckNs: number | undefined;
}

interface View {
  end: End;
  sock: SockInfo;
  proc: Proc | undefined;
  opened: boolean;
  closed: boolean;
  /** When this end's socket came to be (client: its SYN; server: the SYN's arrival); undefined: before the capture. */
  startNs: number | undefined;
}

interface Conn {
  id: string;
  client: { addr: string; port: number };
  server: { addr: string; port: number };
  family: 'ipv4' | 'ipv6';
  netns: number;
  synSeq: number | undefined;
  synNs: number | undefined;
  /** The client's SYN was answered (SYN-ACK seen). */
  synAcked: boolean;
  /** The client acknowledged the SYN-ACK. */
  handshakeDone: boolean;
  c2s: Dir;
  s2c: Dir;
  views: View[];
  lastNs: number;
  done: boolean;
}

export interface TcpLifecycleOptions {
  events: ReadonlySet<TcpEventKind>;
  /** Connections tracked at once. */
  maxConns?: number;
  /** A connection with no packet this long is forgotten (no close). */
  idleNs?: number;
}

export interface TcpLifecycleStats {
  connections: number;
  /** First seen without their handshake. */
  midStream: number;
  /** Forgotten without a close: idle, or pushed out of the table. */
  idle: number;
  evicted: number;
  /** Still open when the input ended. */
  open: number;
}

const TH_FIN = 0x01;
const TH_SYN = 0x02;
const TH_RST = 0x04;
const TH_ACK = 0x10;

const after = (a: number, b: number): boolean => ((a - b) | 0) > 0;

function newDir(): Dir {
  return {
    started: false,
    base: 0,
    high: 0,
    bytes: 0,
    finSeq: undefined,
    finNs: undefined,
    finAckNs: undefined,
  };
}

function startDir(d: Dir, base: number): void {
  d.started = true;
  d.base = base >>> 0;
  d.high = base >>> 0;
}

export class TcpLifecycle {
  readonly stats: TcpLifecycleStats = { connections: 0, midStream: 0, idle: 0, evicted: 0, open: 0 };
  /** Least recently active first. */
  private readonly conns = new Map<string, Conn>();
  private readonly maxConns: number;
  private readonly idleNs: number;

  constructor(private readonly o: TcpLifecycleOptions) {
    this.maxConns = o.maxConns ?? 65536;
    this.idleNs = o.idleNs ?? 300_000_000_000;
  }

  /** The records one packet makes. */
  push(n: TcpNote, out: TcpRecord[] = []): TcpRecord[] {
    const ts = n.tsNs;
    this.tick(ts);
    const syn = (n.flags & TH_SYN) !== 0;
    const ack = (n.flags & TH_ACK) !== 0;
    const rst = (n.flags & TH_RST) !== 0;
    const fin = (n.flags & TH_FIN) !== 0;
    const point = n.local ? `${n.local.addr}|${n.local.port}` : '';
    const id = connId(n, point);
    let c = this.conns.get(id);
    if (c !== undefined) {
      this.conns.delete(id);
      this.conns.set(id, c);
    }
    if (syn && !ack && !rst) {
      if (c !== undefined && c.synSeq === n.seq && n.src === c.client.addr && n.sport === c.client.port) {
        this.emit(c, 'client', 'retransmit', ts, out);
        c.lastNs = ts;
        return out;
      }
      c = this.newConn(id, n, point, true, ts);
      c.synSeq = n.seq;
      c.synNs = ts;
      startDir(c.c2s, n.seq + 1);
      for (const v of c.views) v.startNs = ts;
      this.proc(c, n);
      return out;
    }
    if (c === undefined) {
      if (rst) {
        // An RST for no connection seen: the end that sent it has no socket to report.
        return out;
      }
      if (syn && ack) {
        c = this.newConn(id, n, point, false, ts);
        startDir(c.c2s, n.ack);
      } else if (n.len > 0 || fin) {
        c = this.newConn(id, n, point, looksLikeServerPort(n.dport, n.sport), ts);
        this.stats.midStream++;
        // Mid-stream: both ends are taken as established from the start.
        c.synAcked = true;
        c.handshakeDone = true;
        for (const v of c.views) v.opened = true;
      } else {
        return out;
      }
    }
    c.lastNs = ts;
    if (c.done) return out;
    this.proc(c, n);
    const fromClient = n.src === c.client.addr && n.sport === c.client.port;
    const own = fromClient ? c.c2s : c.s2c;
    const other = fromClient ? c.s2c : c.c2s;
    const sender: End = fromClient ? 'client' : 'server';
    const receiver: End = fromClient ? 'server' : 'client';
    if (syn && ack) {
      if (c.synAcked && own.started && own.base === (n.seq + 1) >>> 0) {
        this.emit(c, 'server', 'retransmit', ts, out);
        return out;
      }
      if (!own.started) startDir(own, n.seq + 1);
      if (!other.started) startDir(other, n.ack);
      if (!c.synAcked) {
        c.synAcked = true;
        this.open(c, 'client', ts, out);
      }
      return out;
    }
    if (rst) {
      this.emit(c, sender, 'reset', ts, out, 'sent');
      this.emit(c, receiver, 'reset', ts, out, 'received');
      this.close(c, sender, ts, out);
      this.close(c, receiver, ts, out);
      c.done = true;
      return out;
    }
    if (!own.started) startDir(own, n.seq);
    if (fromClient && ack && c.synAcked && !c.handshakeDone) {
      c.handshakeDone = true;
      this.open(c, 'server', ts, out);
    }
    if (n.retransmitted) this.emit(c, sender, 'retransmit', ts, out);
    let end = (n.seq + n.len) >>> 0;
    // Past its FIN is the FIN's own sequence number, not payload.
    if (own.finSeq !== undefined && after(end, own.finSeq)) end = own.finSeq;
    if (after(end, own.high)) {
      own.bytes += (end - own.high) >>> 0;
      own.high = end;
    }
    if (fin && own.finSeq === undefined) {
      own.finSeq = end;
      own.finNs = ts;
    }
    // The peer's FIN acknowledged by this packet.
    if (ack && other.finSeq !== undefined && other.finAckNs === undefined && !after((other.finSeq + 1) >>> 0, n.ack)) {
      other.finAckNs = ts;
    }
    this.closeIfDone(c, 'client', ts, out);
    this.closeIfDone(c, 'server', ts, out);
    if (c.views.every((v) => v.closed)) c.done = true;
    return out;
  }

  /** The data's clock moved on: idle connections forgotten. */
  tick(nowNs: number): void {
    for (const c of this.conns.values()) {
      if (nowNs - c.lastNs < this.idleNs) break;
      this.conns.delete(c.id);
      if (!c.done) this.stats.idle++;
    }
  }

  /** The input ended: connections still open are counted. */
  finish(): void {
    for (const c of this.conns.values()) if (!c.done && c.views.some((v) => v.opened && !v.closed)) this.stats.open++;
  }

  private newConn(id: string, n: TcpNote, point: string, toServer: boolean, ts: number): Conn {
    // A new connection on the same ends (a SYN with another number): the old one is forgotten.
    this.conns.delete(id);
    if (this.conns.size >= this.maxConns) {
      const lru = this.conns.values().next().value;
      if (lru !== undefined) {
        this.conns.delete(lru.id);
        if (!lru.done) this.stats.evicted++;
      }
    }
    const client = toServer ? { addr: n.src, port: n.sport } : { addr: n.dst, port: n.dport };
    const server = toServer ? { addr: n.dst, port: n.dport } : { addr: n.src, port: n.sport };
    const c: Conn = {
      id,
      client,
      server,
      family: n.family,
      netns: n.netns,
      synSeq: undefined,
      synNs: undefined,
      synAcked: false,
      handshakeDone: false,
      c2s: newDir(),
      s2c: newDir(),
      views: [],
      lastNs: ts,
      done: false,
    };
    const ends: End[] =
      point === ''
        ? ['client', 'server']
        : [n.local!.addr === client.addr && n.local!.port === client.port ? 'client' : 'server'];
    for (const end of ends) {
      const me = end === 'client' ? client : server;
      const peer = end === 'client' ? server : client;
      c.views.push({
        end,
        sock: {
          netns: n.netns,
          family: n.family,
          protocol: 6,
          saddr: me.addr,
          sport: me.port,
          daddr: peer.addr,
          dport: peer.port,
        },
        proc: undefined,
        opened: false,
        closed: false,
        startNs: undefined,
      });
    }
    this.conns.set(id, c);
    this.stats.connections++;
    return c;
  }

  /** The process the packet names, for the view it belongs to. */
  private proc(c: Conn, n: TcpNote): void {
    if (n.proc === undefined) return;
    let end: End | undefined;
    const srcIsClient = n.src === c.client.addr && n.sport === c.client.port;
    if (n.local !== undefined)
      end = n.local.addr === c.client.addr && n.local.port === c.client.port ? 'client' : 'server';
    else if (n.procAt === 'sender') end = srcIsClient ? 'client' : 'server';
    else if (n.procAt === 'receiver') end = srcIsClient ? 'server' : 'client';
    const v = c.views.find((x) => x.end === end);
    if (v !== undefined) v.proc = n.proc;
  }

  private view(c: Conn, end: End): View | undefined {
    return c.views.find((v) => v.end === end);
  }

  private open(c: Conn, end: End, ts: number, out: TcpRecord[]): void {
    const v = this.view(c, end);
    if (v === undefined || v.opened) return;
    v.opened = true;
    if (!this.o.events.has('open')) return;
    out.push(
      this.record(v, 'open', ts, { oldState: end === 'client' ? 'SYN_SENT' : 'SYN_RECV', state: 'ESTABLISHED' }),
    );
  }

  private closeIfDone(c: Conn, end: End, ts: number, out: TcpRecord[]): void {
    const own = end === 'client' ? c.c2s : c.s2c;
    const peer = end === 'client' ? c.s2c : c.c2s;
    if (own.finNs === undefined || own.finAckNs === undefined || peer.finNs === undefined) return;
    this.close(c, end, ts, out);
  }

  private close(c: Conn, end: End, ts: number, out: TcpRecord[]): void {
    const v = this.view(c, end);
    if (v === undefined || v.closed) return;
    // A server socket exists only once its handshake is done.
    if (end === 'server' && !v.opened) return;
    v.closed = true;
    if (!this.o.events.has('close')) return;
    const own = end === 'client' ? c.c2s : c.s2c;
    const peer = end === 'client' ? c.s2c : c.c2s;
    const oldState = this.state(c, end);
    const r = this.record(v, 'close', ts, { oldState, state: 'CLOSE' });
    r.durationNs = v.startNs === undefined ? null : ts - v.startNs;
    r.txBytes = own.bytes;
    r.rxBytes = peer.bytes;
    r.established = v.opened;
    out.push(r);
  }

  /** An end's state as far as its packets tell. */
  private state(c: Conn, end: End): string {
    const v = this.view(c, end);
    if (v?.closed) return 'CLOSE';
    if (!v?.opened) return end === 'client' ? 'SYN_SENT' : 'SYN_RECV';
    const own = end === 'client' ? c.c2s : c.s2c;
    const peer = end === 'client' ? c.s2c : c.c2s;
    if (own.finNs !== undefined && peer.finNs !== undefined) {
      return own.finNs <= peer.finNs ? (own.finAckNs !== undefined ? 'FIN_WAIT2' : 'CLOSING') : 'LAST_ACK';
    }
    if (own.finNs !== undefined) return own.finAckNs !== undefined ? 'FIN_WAIT2' : 'FIN_WAIT1';
    if (peer.finNs !== undefined) return 'CLOSE_WAIT';
    return 'ESTABLISHED';
  }

  private emit(
    c: Conn,
    end: End,
    event: 'retransmit' | 'reset',
    ts: number,
    out: TcpRecord[],
    resetDirection?: 'sent' | 'received',
  ): void {
    if (!this.o.events.has(event)) return;
    const v = this.view(c, end);
    if (v === undefined) return;
    const state = v.opened || end === 'client' ? this.state(c, end) : null;
    const r = this.record(v, event, ts, { oldState: state ?? 'UNKNOWN', state: state ?? 'UNKNOWN' });
    r.state = state;
    if (event === 'reset') r.resetDirection = resetDirection ?? null;
    else r.segments = 1;
    out.push(r);
  }

  private record(v: View, event: TcpEventKind, ts: number, s: { oldState: string; state: string }): TcpRecord {
    const conn = event === 'open' || event === 'close';
    return {
      tool: 'tcp',
      tsNs: ts,
      event,
      proc: v.proc ?? null,
      sock: v.sock,
      direction: conn ? (v.end === 'client' ? 'active' : 'passive') : 'unknown',
      durationNs: null,
      txBytes: 0,
      rxBytes: 0,
      established: true,
      oldState: s.oldState,
      newState: s.state,
      health: null,
      state: s.state,
      reason: null,
      resetDirection: null,
      segments: null,
    };
  }
}

/** One id for both directions of a connection, per observation point. */
function connId(n: TcpNote, point: string): string {
  const first = n.src < n.dst || (n.src === n.dst && n.sport <= n.dport);
  const ends = first ? `${n.src}|${n.sport}|${n.dst}|${n.dport}` : `${n.dst}|${n.dport}|${n.src}|${n.sport}`;
  return `${n.netns}|${point}|${ends}`;
}
