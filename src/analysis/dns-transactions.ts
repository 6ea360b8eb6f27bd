/**
 * DNS transactions from the messages each local socket sent and received:
 * a query and its response on one socket make one record, from that
 * socket's side (client: it sent the query; server: it received it).
 * On loopback both ends are on this host and each gives its own record.
 * Queries without a response within the timeout are reported as `timeout`;
 * messages that do not parse as `malformed` with the parser's reason.
 * Pairing key: the socket, the peer's address and port, the message id, and
 * the first question (name, case-insensitive, and type). Pure (no I/O);
 * bounded: pending queries have a cap; what is evicted is counted.
 */
import { PayloadChunk } from '../events/sock-payload';
import { ProcInfo, SockInfo } from '../events/record';
import { formatEndpoint } from '../output/address';
import { DnsParse, DnsRecord, looksLikeDns, parseDnsMessage } from '../protocols/dns';
import { DnsMessages, DnsStreamFault, DnsWireMessage } from './dns-messages';

export interface DnsAnswer {
  name: string;
  type: string;
  ttl: number;
  /** As dig prints it. */
  data: string;
}

export type DnsStatus = 'answered' | 'timeout' | 'malformed';

export interface DnsTransaction {
  /** The query's time; a response's or malformed message's own when there is no query. */
  tsNs: bigint;
  status: DnsStatus;
  side: 'client' | 'server';
  transport: 'udp' | 'tcp';
  /** Client side: the asking process; server side: the answering one. */
  proc: ProcInfo | null;
  /** This host's socket: local end in saddr/sport. */
  sock: SockInfo;
  /** The DNS server's address:port (the peer for a client, this socket for a server). */
  server: string;
  id: number | null;
  /** Without the trailing dot ("." for the root). */
  qname: string | null;
  qtype: string | null;
  rcode: string | null;
  answers: DnsAnswer[];
  /** Query to response, as this socket saw them; null without both. */
  latencyNs: number | null;
  /** The response's TC bit: it did not fit (the client retries over TCP). */
  truncated: boolean;
  /** malformed: why. */
  error: string | null;
}

export interface DnsTransactionStats {
  queries: number;
  responses: number;
  /** Responses with no query seen (sent before start, or lost). */
  unmatched: number;
  timeouts: number;
  malformed: number;
  /** UDP datagrams the kernel's cheap test let through and the parser's heuristic did not (not DNS). */
  notDns: number;
  /** Pending queries dropped over the cap. */
  evicted: number;
}

interface Pending {
  tsNs: bigint;
  proc: ProcInfo | null;
  sock: SockInfo;
  transport: 'udp' | 'tcp';
  side: 'client' | 'server';
  id: number;
  qname: string | null;
  qtype: string | null;
}

export interface DnsTransactionsOptions {
  timeoutNs: bigint;
  /** Queries waiting for a response at once (oldest dropped beyond). */
  maxPending?: number;
}

/** "example.com." -> "example.com"; the root stays ".". */
export function bareName(name: string): string {
  return name.length > 1 && name.endsWith('.') ? name.slice(0, -1) : name;
}

function answerOf(r: DnsRecord): DnsAnswer {
  return { name: bareName(r.name), type: r.type, ttl: r.ttl, data: r.data };
}

/** UDP traffic on these ports is taken as DNS even when the heuristic doubts it. */
const DNS_PORTS = new Set([53, 5353, 5355]);

export class DnsTransactions {
  readonly stats: DnsTransactionStats = { queries: 0, responses: 0, unmatched: 0, timeouts: 0, malformed: 0, notDns: 0, evicted: 0 };
  readonly messages = new DnsMessages();
  /** Insertion order is query time order: the oldest come first. */
  private readonly pending = new Map<string, Pending>();
  private readonly timeoutNs: bigint;
  private readonly maxPending: number;

  constructor(o: DnsTransactionsOptions) {
    this.timeoutNs = o.timeoutNs;
    this.maxPending = o.maxPending ?? 65536;
  }

  /** The transactions one kernel record completes. */
  push(c: PayloadChunk): DnsTransaction[] {
    const out: DnsTransaction[] = [];
    for (const m of this.messages.push(c)) {
      if ('error' in m) out.push(this.streamFault(m));
      else this.message(m, out);
    }
    return out;
  }

  /** Queries older than the timeout, reported as such. */
  tick(nowNs: bigint): DnsTransaction[] {
    this.messages.expire(nowNs);
    const out: DnsTransaction[] = [];
    for (const [k, p] of this.pending) {
      if (nowNs - p.tsNs < this.timeoutNs) break;
      this.pending.delete(k);
      this.stats.timeouts++;
      out.push(this.record(p, 'timeout', null, null));
    }
    return out;
  }

  /** Queries still waiting (not yet timed out) at the end. */
  get waiting(): number {
    return this.pending.size;
  }

  private message(m: DnsWireMessage, out: DnsTransaction[]): void {
    const udp = m.transport === 'udp';
    if (udp && !looksLikeDns(m.bytes) && !DNS_PORTS.has(m.sock.sport) && !DNS_PORTS.has(m.sock.dport)) {
      this.stats.notDns++;
      return;
    }
    const parsed = parseDnsMessage(m.bytes);
    if (!parsed.ok && parsed.response === undefined) {
      out.push(this.malformed(m, parsed, false));
      return;
    }
    const response = parsed.ok ? parsed.msg.response : parsed.response === true;
    // A query this socket sent, or a response it received: the client's side.
    const side = response === (m.dir === 'ingress') ? 'client' : 'server';
    const q = (parsed.ok ? parsed.msg.questions : parsed.questions)[0];
    if (!response) {
      if (!parsed.ok) {
        out.push(this.malformed(m, parsed, false));
        return;
      }
      this.stats.queries++;
      const p: Pending = {
        tsNs: m.tsNs,
        proc: m.proc,
        sock: m.sock,
        transport: m.transport,
        side,
        id: parsed.msg.id,
        qname: q ? bareName(q.name) : null,
        qtype: q ? q.type : null,
      };
      const key = this.key(m, p.id, p.qname, p.qtype);
      if (this.pending.has(key)) return; // a retry: latency counts from the first
      if (this.pending.size >= this.maxPending) this.evictOldest();
      this.pending.set(key, p);
      return;
    }
    this.stats.responses++;
    const id = parsed.ok ? parsed.msg.id : parsed.id!;
    const p = this.takePending(m, id, q ? bareName(q.name) : null, q ? q.type : null);
    if (!parsed.ok) {
      out.push(this.malformed(m, parsed, true, p));
      return;
    }
    const msg = parsed.msg;
    const base: Pending = p ?? {
      tsNs: m.tsNs,
      proc: m.proc,
      sock: m.sock,
      transport: m.transport,
      side,
      id,
      qname: q ? bareName(q.name) : null,
      qtype: q ? q.type : null,
    };
    if (!p) this.stats.unmatched++;
    const t = this.record(base, 'answered', m, p ? m.tsNs : null);
    t.rcode = msg.rcode;
    t.truncated = msg.truncated;
    t.answers = msg.answers.map(answerOf);
    out.push(t);
  }

  private key(m: { conn: bigint; sock: SockInfo }, id: number, qname: string | null, qtype: string | null): string {
    return `${m.conn}|${m.sock.daddr}|${m.sock.dport}|${id}|${qname?.toLowerCase() ?? ''}|${qtype ?? ''}`;
  }

  /** The query this response answers, removed from the pending ones. */
  private takePending(m: DnsWireMessage, id: number, qname: string | null, qtype: string | null): Pending | undefined {
    if (qname !== null) {
      const k = this.key(m, id, qname, qtype);
      const p = this.pending.get(k);
      if (p) this.pending.delete(k);
      return p;
    }
    // No question in the response (some errors): the id alone.
    const prefix = `${m.conn}|${m.sock.daddr}|${m.sock.dport}|${id}|`;
    for (const [k, p] of this.pending) {
      if (k.startsWith(prefix)) {
        this.pending.delete(k);
        return p;
      }
    }
    return undefined;
  }

  private evictOldest(): void {
    const k = this.pending.keys().next().value;
    if (k !== undefined) this.pending.delete(k);
    this.stats.evicted++;
  }

  /**
   * A transaction from its query (or what stands in for it) and the
   * response message, if any. Client side: the query's process asked.
   * Server side: the response's process answered.
   */
  private record(p: Pending, status: DnsStatus, resp: DnsWireMessage | null, respTs: bigint | null): DnsTransaction {
    const proc = p.side === 'server' && resp?.proc ? resp.proc : (p.proc ?? resp?.proc ?? null);
    return {
      tsNs: p.tsNs,
      status,
      side: p.side,
      transport: p.transport,
      proc,
      sock: p.sock,
      server: p.side === 'client' ? formatEndpoint(p.sock.daddr, p.sock.dport) : formatEndpoint(p.sock.saddr, p.sock.sport),
      id: p.id,
      qname: p.qname,
      qtype: p.qtype,
      rcode: null,
      answers: [],
      latencyNs: respTs === null ? null : Number(respTs - p.tsNs),
      truncated: false,
      error: null,
    };
  }

  private malformed(m: DnsWireMessage, parsed: DnsParse & { ok: false }, response: boolean, p?: Pending): DnsTransaction {
    this.stats.malformed++;
    const q = parsed.questions[0];
    const side = response === (m.dir === 'ingress') ? 'client' : 'server';
    const base: Pending = p ?? {
      tsNs: m.tsNs,
      proc: m.proc,
      sock: m.sock,
      transport: m.transport,
      side,
      id: parsed.id ?? -1,
      qname: q ? bareName(q.name) : null,
      qtype: q ? q.type : null,
    };
    const t = this.record(base, 'malformed', m, p ? m.tsNs : null);
    if (base.id < 0) t.id = null;
    t.error = parsed.error;
    return t;
  }

  private streamFault(f: DnsStreamFault): DnsTransaction {
    this.stats.malformed++;
    const side = f.dir === 'egress' ? 'client' : 'server'; // a guess: the message was cut before its header
    return {
      tsNs: f.tsNs,
      status: 'malformed',
      side,
      transport: 'tcp',
      proc: f.proc,
      sock: f.sock,
      server: side === 'client' ? formatEndpoint(f.sock.daddr, f.sock.dport) : formatEndpoint(f.sock.saddr, f.sock.sport),
      id: null,
      qname: null,
      qtype: null,
      rcode: null,
      answers: [],
      latencyNs: null,
      truncated: false,
      error: f.error,
    };
  }
}
