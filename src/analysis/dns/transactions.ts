/**
 * DNS transactions from the messages each local socket sent and received:
 * a query and its response on one socket make one record, from that
 * socket's side (client: it sent the query; server: it received it).
 * On loopback both ends are on this host and each gives its own record.
 * Queries without a response within the timeout are reported as `timeout`,
 * once: a response that comes later is counted as late, not reported again
 * (timed-out queries are remembered, a bounded number). Messages that do not
 * parse are `malformed` with the parser's reason. Pairing key: the socket,
 * the peer's address and port, the message id, and the first question
 * (name, case-insensitive, and type); a response without a question pairs
 * by id alone, through an index. Input: Segments and Datagrams from any
 * source (DnsMessages, over the stream service). Time is the data's. Pure
 * (no I/O); bounded: pending queries have a cap; what is evicted is counted.
 */
import type { Proc } from '../../model/packet';
import type { Datagram, Segment } from '../../model/segment';
import { SockInfo } from '../../events/record';
import { formatEndpoint } from '../../text/address';
import { DnsParse, DnsRecord, looksLikeDns, parseDnsMessage } from '../../protocols/dns';
import { DnsMessages, DnsMessagesOptions, DnsStreamFault, DnsWireMessage } from './messages';
import { ListenerJoin } from '../streams/listener-join';

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
  tsNs: number;
  status: DnsStatus;
  side: 'client' | 'server';
  transport: 'udp' | 'tcp';
  /** Client side: the asking process; server side: the answering one. */
  proc: Proc | null;
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
  /**
   * UDP datagrams that are not DNS: ones the kernel's cheap test let through
   * and the parser's did not, and a reply that is not DNS to a socket that
   * asked a query (the kernel copies the first one after each query).
   */
  notDns: number;
  /** Of those, replies from the server a pending query was sent to (its timeout says so). */
  notDnsReplies: number;
  /** Pending queries dropped over the cap. */
  evicted: number;
  /** Responses to queries already reported as timeout: counted, not reported again. */
  late: number;
}

interface Pending {
  tsNs: number;
  proc: Proc | null;
  sock: SockInfo;
  transport: 'udp' | 'tcp';
  side: 'client' | 'server';
  id: number;
  qname: string | null;
  qtype: string | null;
}

/**
 * A query waiting, with its pairing key without the question (what a
 * response without one pairs by), its socket and peer (what a reply that is
 * not DNS pairs by), and the size of such a reply once one came.
 */
type Waiting = Pending & { idKey: string; peerKey: string; notDnsReply?: number };

/**
 * A message's exchange as a query waiting for its answer holds it (one
 * shape for every pending query, and for the answer or fault that finds
 * none: those leave the keys empty).
 */
function waitingOf(
  m: DnsWireMessage,
  side: 'client' | 'server',
  id: number,
  q: { name: string; type: string } | undefined,
  idKey = '',
  peerKey = '',
): Waiting {
  return {
    idKey,
    peerKey,
    tsNs: m.tsNs,
    proc: m.proc,
    sock: m.sock,
    transport: m.transport,
    side,
    id,
    qname: q ? bareName(q.name) : null,
    qtype: q ? q.type : null,
  };
}

export interface DnsTransactionsOptions {
  timeoutNs: number;
  /** Capture files: take only what the kernel would have copied (see DnsMessages). */
  classify?: boolean;
  /** Queries waiting for a response at once (oldest dropped beyond). */
  maxPending?: number;
  /** Timed-out queries remembered, so a late response is not a transaction of its own. */
  maxTimedOut?: number;
  messages?: DnsMessagesOptions;
}

/** Keys in groups (each in insertion order): the pending queries by id alone. Most groups hold one key: kept as is. */
class KeyIndex {
  private readonly groups = new Map<string, string | Set<string>>();

  add(group: string, key: string): void {
    const g = this.groups.get(group);
    if (g === undefined) this.groups.set(group, key);
    else if (typeof g === 'string') this.groups.set(group, new Set([g, key]));
    else g.add(key);
  }

  delete(group: string, key: string): void {
    const g = this.groups.get(group);
    if (g === undefined) return;
    if (typeof g === 'string') {
      if (g === key) this.groups.delete(group);
      return;
    }
    g.delete(key);
    if (g.size === 0) this.groups.delete(group);
  }

  first(group: string): string | undefined {
    const g = this.groups.get(group);
    return typeof g === 'string' ? g : g?.values().next().value;
  }
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
  readonly stats: DnsTransactionStats = {
    queries: 0,
    responses: 0,
    unmatched: 0,
    timeouts: 0,
    malformed: 0,
    notDns: 0,
    notDnsReplies: 0,
    evicted: 0,
    late: 0,
  };
  readonly messages: DnsMessages;
  /** Insertion order is query time order: the oldest come first. */
  private readonly pending = new Map<string, Waiting>();
  private readonly pendingById = new KeyIndex();
  private readonly pendingByPeer = new KeyIndex();
  /** Timed-out queries' keys (to their id keys), oldest first. */
  private readonly timedOut = new Map<string, string>();
  private readonly timedOutById = new KeyIndex();
  private readonly timeoutNs: number;
  private readonly maxPending: number;
  private readonly maxTimedOut: number;

  constructor(o: DnsTransactionsOptions) {
    this.timeoutNs = o.timeoutNs;
    this.maxPending = o.maxPending ?? 65536;
    this.maxTimedOut = o.maxTimedOut ?? 65536;
    // A listener's segment waits for its connection as long as a query waits for its answer.
    this.messages = new DnsMessages({
      joinWaitNs: o.timeoutNs,
      ...(o.classify ? { classify: true } : {}),
      ...o.messages,
    });
  }

  /** Segments a listener saw, joined to their connections (or not). */
  get join(): ListenerJoin {
    return this.messages.streams.join;
  }

  /** The transactions one segment or datagram completes. */
  push(x: Segment | Datagram): DnsTransaction[] {
    const out: DnsTransaction[] = [];
    this.take(this.messages.push(x), out);
    return out;
  }

  private take(list: (DnsWireMessage | DnsStreamFault)[], out: DnsTransaction[]): void {
    for (const m of list) {
      if ('error' in m) out.push(this.streamFault(m));
      else this.message(m, out);
    }
  }

  /** Streams given up while idle, listener segments on their own, and queries older than the timeout, reported as such. */
  tick(nowNs: number): DnsTransaction[] {
    const out: DnsTransaction[] = [];
    this.take(this.messages.expire(nowNs), out);
    for (const [k, p] of this.pending) {
      if (nowNs - p.tsNs < this.timeoutNs) break;
      this.dropPending(k, p);
      this.stats.timeouts++;
      this.rememberTimeout(k, p.idKey);
      const t = this.record(p, 'timeout', null, null);
      if (p.notDnsReply !== undefined) t.error = `the server replied with ${p.notDnsReply} bytes that are not DNS`;
      out.push(t);
    }
    return out;
  }

  private rememberTimeout(key: string, idKey: string): void {
    this.timedOut.set(key, idKey);
    this.timedOutById.add(idKey, key);
    while (this.timedOut.size > this.maxTimedOut) {
      const first = this.timedOut.entries().next().value;
      if (!first) break;
      this.timedOut.delete(first[0]);
      this.timedOutById.delete(first[1], first[0]);
    }
  }

  /** Whether a response answers a query already reported as timeout (then forgotten: counted once). */
  private lateFor(m: DnsWireMessage, id: number, qname: string | null, qtype: string | null): boolean {
    const idKey = this.idKey(m, id);
    const k = qname !== null ? this.key(m, id, qname, qtype) : this.timedOutById.first(idKey);
    if (k === undefined || !this.timedOut.has(k)) return false;
    this.timedOut.delete(k);
    this.timedOutById.delete(idKey, k);
    this.stats.late++;
    return true;
  }

  /** Queries still waiting (not yet timed out) at the end. */
  get waiting(): number {
    return this.pending.size;
  }

  private message(m: DnsWireMessage, out: DnsTransaction[]): void {
    const udp = m.transport === 'udp';
    const doubted = udp && !looksLikeDns(m.bytes);
    // On the DNS ports a message the heuristic doubts is still DNS when it parses.
    if (doubted && !DNS_PORTS.has(m.sock.sport) && !DNS_PORTS.has(m.sock.dport)) {
      this.notDns(m);
      return;
    }
    const parsed = parseDnsMessage(m.bytes);
    if (doubted && !parsed.ok) {
      this.notDns(m);
      return;
    }
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
      const id = parsed.msg.id;
      const idKey = this.idKey(m, id);
      const p = waitingOf(m, side, id, q, idKey, this.peerKey(m));
      const key = `${idKey}|${p.qname?.toLowerCase() ?? ''}|${p.qtype ?? ''}`;
      if (this.pending.has(key)) return; // a retry: latency counts from the first
      if (this.pending.size >= this.maxPending) this.evictOldest();
      this.pending.set(key, p);
      this.pendingById.add(idKey, key);
      this.pendingByPeer.add(p.peerKey, key);
      return;
    }
    this.stats.responses++;
    const id = parsed.ok ? parsed.msg.id : parsed.id!;
    const qname = q ? bareName(q.name) : null;
    const qtype = q ? q.type : null;
    const p = this.takePending(m, id, qname, qtype);
    if (!p && this.lateFor(m, id, qname, qtype)) return;
    if (!parsed.ok) {
      out.push(this.malformed(m, parsed, true, p));
      return;
    }
    const msg = parsed.msg;
    const base: Pending = p ?? waitingOf(m, side, id, q);
    if (!p) this.stats.unmatched++;
    const t = this.record(base, 'answered', m, p ? m.tsNs : null);
    t.rcode = msg.rcode;
    t.truncated = msg.truncated;
    t.answers = msg.answers.map(answerOf);
    out.push(t);
  }

  /**
   * A UDP datagram that is not DNS: counted; when a socket received it from
   * the server its oldest pending query was sent to, that query notes it.
   */
  private notDns(m: DnsWireMessage): void {
    this.stats.notDns++;
    if (m.dir !== 'ingress') return;
    const k = this.pendingByPeer.first(this.peerKey(m));
    const p = k === undefined ? undefined : this.pending.get(k);
    if (!p || p.notDnsReply !== undefined) return;
    p.notDnsReply = m.bytes.length;
    this.stats.notDnsReplies++;
  }

  private peerKey(m: { conn: string; sock: SockInfo }): string {
    return `${m.conn}|${m.sock.daddr}|${m.sock.dport}`;
  }

  private idKey(m: { conn: string; sock: SockInfo }, id: number): string {
    return `${m.conn}|${m.sock.daddr}|${m.sock.dport}|${id}`;
  }

  private key(m: { conn: string; sock: SockInfo }, id: number, qname: string | null, qtype: string | null): string {
    return `${this.idKey(m, id)}|${qname?.toLowerCase() ?? ''}|${qtype ?? ''}`;
  }

  /** The query this response answers, removed from the pending ones. */
  private takePending(m: DnsWireMessage, id: number, qname: string | null, qtype: string | null): Pending | undefined {
    // No question in the response (some errors): the id alone, the oldest such query.
    const k = qname !== null ? this.key(m, id, qname, qtype) : this.pendingById.first(this.idKey(m, id));
    if (k === undefined) return undefined;
    const p = this.pending.get(k);
    if (p) this.dropPending(k, p);
    return p;
  }

  private dropPending(k: string, p: Waiting): void {
    this.pending.delete(k);
    this.pendingById.delete(p.idKey, k);
    this.pendingByPeer.delete(p.peerKey, k);
  }

  private evictOldest(): void {
    const first = this.pending.entries().next().value;
    if (first) this.dropPending(first[0], first[1]);
    this.stats.evicted++;
  }

  /**
   * A transaction from its query (or what stands in for it) and the
   * response message, if any. Client side: the query's process asked.
   * Server side: the response's process answered.
   */
  private record(p: Pending, status: DnsStatus, resp: DnsWireMessage | null, respTs: number | null): DnsTransaction {
    const proc = p.side === 'server' && resp?.proc ? resp.proc : (p.proc ?? resp?.proc ?? null);
    return {
      tsNs: p.tsNs,
      status,
      side: p.side,
      transport: p.transport,
      proc,
      sock: p.sock,
      server:
        p.side === 'client' ? formatEndpoint(p.sock.daddr, p.sock.dport) : formatEndpoint(p.sock.saddr, p.sock.sport),
      id: p.id,
      qname: p.qname,
      qtype: p.qtype,
      rcode: null,
      answers: [],
      latencyNs: respTs === null ? null : respTs - p.tsNs,
      truncated: false,
      error: null,
    };
  }

  private malformed(
    m: DnsWireMessage,
    parsed: DnsParse & { ok: false },
    response: boolean,
    p?: Pending,
  ): DnsTransaction {
    this.stats.malformed++;
    const q = parsed.questions[0];
    const side = response === (m.dir === 'ingress') ? 'client' : 'server';
    const base: Pending = p ?? waitingOf(m, side, parsed.id ?? -1, q);
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
      server:
        side === 'client' ? formatEndpoint(f.sock.daddr, f.sock.dport) : formatEndpoint(f.sock.saddr, f.sock.sport),
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
