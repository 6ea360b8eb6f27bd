/**
 * DNS transactions from kernel payload records: pairing from each side,
 * timeouts, UDP datagrams over several records, TCP in order and out of
 * order, and bad input (a pointer loop, a 64 KB TCP message of garbage, a
 * broken stream): marked malformed, counted, never a throw or a hang. Also
 * long-lived TCP connections (idle, evicted, taken up again), memory bounds,
 * ends ahead of gaps, the kernel's copy limit, listener segments, late
 * responses, and the CLI tool's tick and finish.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { DnsTransaction, DnsTransactions } from '../../src/analysis/dns/transactions';
import { DnsStats, formatDnsStats } from '../../src/analysis/dns/stats';
import { PayloadChunk } from '../../src/events/sock-payload';
import { ProcInfo, SockInfo } from '../../src/events/record';
import { dnsTool, nameMatches, parseNames } from '../../src/cli/dns';
import { DnsMessages, DnsStreamFault, DnsWireMessage } from '../../src/analysis/dns/messages';
import { LiveOptions } from '../../src/cli/common-flags';
import { Features } from '../../src/kernel/features';
import { RunningFamily } from '../../src/probes/family';
import { SockPayloadKernelStats } from '../../src/probes/sock-payload';
import { payloadChunk } from '../helpers/payload-chunk';
type ChunkFields = Parameters<typeof payloadChunk>[2];
import { viaKernel } from '../helpers/via-kernel';

/** CPU milliseconds since `t0` (process.cpuUsage()). */
const cpuMs = (t0: NodeJS.CpuUsage): number => {
  const u = process.cpuUsage(t0);
  return (u.user + u.system) / 1000;
};

/** The analyzers as the live command feeds them: kernel records through the kernel adapter. */
const DT = (o: ConstructorParameters<typeof DnsTransactions>[0]) =>
  viaKernel<DnsTransaction[], DnsTransactions>(new DnsTransactions(o));
const DM = (o?: ConstructorParameters<typeof DnsMessages>[0]) =>
  viaKernel<(DnsWireMessage | DnsStreamFault)[], DnsMessages>(new DnsMessages(o));

/* ---- messages ---- */
const u16 = (n: number) => [n >> 8, n & 255];
const u32 = (n: number) => [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
function nm(name: string): number[] {
  const out: number[] = [];
  for (const l of name.split('.').filter(Boolean)) out.push(l.length, ...Buffer.from(l));
  return [...out, 0];
}
const PTR_QNAME = [0xc0, 12];
function query(id: number, name: string, type = 1): Buffer {
  return Buffer.from([...u16(id), 0x01, 0x00, ...u16(1), 0, 0, 0, 0, 0, 0, ...nm(name), ...u16(type), 0, 1]);
}
function answer(id: number, name: string, rcode = 0, a: number[][] = [[10, 9, 8, 7]], type = 1): Buffer {
  const rrs = a.flatMap((d) => [...PTR_QNAME, ...u16(type), 0, 1, ...u32(60), ...u16(d.length), ...d]);
  return Buffer.from([
    ...u16(id),
    0x85,
    0x80 | rcode,
    ...u16(1),
    ...u16(a.length),
    0,
    0,
    0,
    0,
    ...nm(name),
    ...u16(type),
    0,
    1,
    ...rrs,
  ]);
}
/** A response whose answer's name is a pointer to itself. */
function pointerLoop(id: number, name: string): Buffer {
  const head = [...u16(id), 0x85, 0x80, ...u16(1), ...u16(1), 0, 0, 0, 0, ...nm(name), 0, 1, 0, 1];
  const at = head.length;
  return Buffer.from([...head, 0xc0 | (at >> 8), at & 255, 0, 1, 0, 1, ...u32(60), 0, 4, 1, 2, 3, 4]);
}
const tcp = (m: Buffer) => Buffer.concat([Buffer.from(u16(m.length)), m]);

/* ---- records ---- */
const DIG: ProcInfo = { pid: 100, tid: 100, uid: 0, gid: 0, cgroupId: 1, comm: 'dig' };
const DNSMASQ: ProcInfo = { pid: 200, tid: 200, uid: 0, gid: 0, cgroupId: 1, comm: 'dnsmasq' };
const CLIENT_SOCK: SockInfo = {
  netns: 1,
  family: 'ipv4',
  protocol: 17,
  saddr: '127.0.0.1',
  sport: 40000,
  daddr: '127.0.0.1',
  dport: 5353,
};
const SERVER_SOCK: SockInfo = { ...CLIENT_SOCK, sport: 5353, dport: 40000 };

let ts = 1_000_000;
function chunk(bytes: Uint8Array, o: ChunkFields = {}): PayloadChunk {
  ts += 1000;
  const base = { tsNs: ts, proc: DIG, sock: CLIENT_SOCK, kind: 'dns', transport: 'udp', dir: 'egress' } as const;
  return payloadChunk(bytes, base, o);
}
const tracker = (timeoutS = 5) => DT({ timeoutNs: timeoutS * 1e9 });
function one(list: DnsTransaction[]): DnsTransaction {
  assert.equal(
    list.length,
    1,
    JSON.stringify(list, (_k, v) => (typeof v === 'bigint' ? String(v) : v)),
  );
  return list[0]!;
}

describe('DNS transactions over UDP', () => {
  it('the client side: query sent, response received; the asker, the server, answers, latency', () => {
    const t = tracker();
    assert.deepEqual(t.push(chunk(query(7, 'h.test'))), []);
    const q = ts;
    const r = one(t.push(chunk(answer(7, 'h.test'), { dir: 'ingress' })));
    assert.equal(r.status, 'answered');
    assert.equal(r.side, 'client');
    assert.equal(r.proc, DIG);
    assert.equal(r.server, '127.0.0.1:5353');
    assert.equal(r.tsNs, q);
    assert.equal(r.latencyNs, 1000);
    assert.deepEqual([r.id, r.qname, r.qtype, r.rcode, r.transport], [7, 'h.test', 'A', 'NOERROR', 'udp']);
    assert.deepEqual(r.answers, [{ name: 'h.test', type: 'A', ttl: 60, data: '10.9.8.7' }]);
  });

  it('the server side: query received, response sent; the answering process', () => {
    const t = tracker();
    t.push(chunk(query(8, 'h.test'), { dir: 'ingress', sock: SERVER_SOCK, conn: 2, proc: null }));
    const r = one(t.push(chunk(answer(8, 'h.test'), { sock: SERVER_SOCK, conn: 2, proc: DNSMASQ })));
    assert.equal(r.side, 'server');
    assert.equal(r.proc, DNSMASQ);
    assert.equal(r.server, '127.0.0.1:5353');
  });

  it('pairs by socket, peer, id and question: other ids and names stay pending', () => {
    const t = tracker();
    t.push(chunk(query(9, 'a.test')));
    t.push(chunk(query(9, 'b.test')));
    t.push(chunk(query(10, 'a.test')));
    const r = one(t.push(chunk(answer(9, 'B.TEST'), { dir: 'ingress' })));
    assert.equal(r.qname, 'b.test', "the query's own spelling");
    assert.notEqual(r.latencyNs, null);
    assert.equal(t.waiting, 2);
  });

  it('NXDOMAIN and SERVFAIL, with no answers', () => {
    const t = tracker();
    t.push(chunk(query(11, 'nope.test')));
    const r = one(t.push(chunk(answer(11, 'nope.test', 3, []), { dir: 'ingress' })));
    assert.equal(r.rcode, 'NXDOMAIN');
    assert.deepEqual(r.answers, []);
    t.push(chunk(query(12, 'bad.test')));
    assert.equal(one(t.push(chunk(answer(12, 'bad.test', 2, []), { dir: 'ingress' }))).rcode, 'SERVFAIL');
  });

  it('no response within the timeout: reported once as timeout, at the tick', () => {
    const t = tracker(1);
    t.push(chunk(query(13, 'slow.test')));
    const sent = ts;
    assert.deepEqual(t.tick(sent + 999_999_999), []);
    const r = one(t.tick(sent + 1_000_000_000));
    assert.deepEqual([r.status, r.qname, r.rcode, r.latencyNs, r.side], ['timeout', 'slow.test', null, null, 'client']);
    assert.deepEqual(t.tick(sent + 5_000_000_000), []);
    assert.equal(t.stats.timeouts, 1);
  });

  it('a retried query keeps the first send time', () => {
    const t = tracker();
    t.push(chunk(query(14, 'r.test')));
    const first = ts;
    t.push(chunk(query(14, 'r.test')));
    const r = one(t.push(chunk(answer(14, 'r.test'), { dir: 'ingress' })));
    assert.equal(r.latencyNs, Number(ts - first));
  });

  it('a response whose query was not seen: reported, latency unknown, counted', () => {
    const t = tracker();
    const r = one(t.push(chunk(answer(15, 'late.test'), { dir: 'ingress' })));
    assert.equal(r.latencyNs, null);
    assert.equal(r.side, 'client');
    assert.equal(t.stats.unmatched, 1);
  });

  it('a pointer loop: malformed with the reason, paired with its query, counted', () => {
    const t = tracker();
    t.push(chunk(query(16, 'loop.test')));
    const r = one(t.push(chunk(pointerLoop(16, 'loop.test'), { dir: 'ingress' })));
    assert.deepEqual([r.status, r.error, r.qname, r.id], ['malformed', 'pointer loop', 'loop.test', 16]);
    assert.notEqual(r.latencyNs, null);
    assert.equal(t.stats.malformed, 1);
    assert.equal(t.waiting, 0);
  });

  it('a datagram over several records is put together (records of other packets in between)', () => {
    const t = tracker();
    t.push(chunk(query(17, 'big.test', 16)));
    const txt = Array.from({ length: 40 }, (_, i) => [200, ...Buffer.alloc(200, 97 + (i % 26))]);
    const big = answer(17, 'big.test', 0, txt, 16);
    assert.ok(big.length > 8192);
    const at = ts + 1000;
    const parts = [0, 4096, 8192].map((off) => ({
      tsNs: at,
      dir: 'ingress' as const,
      len: big.length,
      off,
      bytes: big.subarray(off, off + 4096),
    }));
    assert.deepEqual(t.push(chunk(parts[2]!.bytes, parts[2])), []);
    assert.deepEqual(t.push(chunk(query(99, 'other.test'), { conn: 9 })), []);
    assert.deepEqual(t.push(chunk(parts[0]!.bytes, parts[0])), []);
    const r = one(t.push(chunk(parts[1]!.bytes, parts[1])));
    assert.equal(r.answers.length, 40);
    assert.equal(r.answers[0]!.data, `"${'a'.repeat(200)}"`);
  });

  it('UDP that is not DNS after all is counted, not reported', () => {
    const t = tracker();
    const sock = { ...CLIENT_SOCK, dport: 443 };
    const quic = Buffer.from('c1000000010800010203040506070800004400', 'hex');
    assert.deepEqual(t.push(chunk(Buffer.concat([quic, Buffer.alloc(40)]), { sock })), []);
    assert.equal(t.stats.notDns, 1);
  });

  it('pending queries are capped; the oldest go first and are counted', () => {
    const t = DT({ timeoutNs: 10 ** 12, maxPending: 2 });
    for (const id of [1, 2, 3]) t.push(chunk(query(id, 'cap.test')));
    assert.equal(t.waiting, 2);
    assert.equal(t.stats.evicted, 1);
    assert.equal(one(t.push(chunk(answer(1, 'cap.test'), { dir: 'ingress' }))).latencyNs, null, 'query 1 was evicted');
  });
});

describe('DNS transactions over TCP', () => {
  const T = { transport: 'tcp' as const, conn: 5, sock: { ...CLIENT_SOCK, protocol: 6 } };

  it('segments out of order, repeated, and split inside the length prefix', () => {
    const t = tracker();
    const q = tcp(query(21, 'a.test'));
    assert.deepEqual(t.push(chunk(q.subarray(5), { ...T, stream: 5 })), []);
    assert.deepEqual(t.push(chunk(q.subarray(0, 1), { ...T, stream: 0 })), []);
    assert.deepEqual(t.push(chunk(q.subarray(0, 1), { ...T, stream: 0 })), []);
    assert.deepEqual(t.push(chunk(q.subarray(1, 5), { ...T, stream: 1 })), []);
    assert.equal(t.waiting, 1);
    const a = tcp(answer(21, 'a.test'));
    const r = one(t.push(chunk(a, { ...T, dir: 'ingress' })));
    assert.deepEqual([r.transport, r.qname, r.answers[0]!.data], ['tcp', 'a.test', '10.9.8.7']);
  });

  it('two messages in one segment, the second answered first', () => {
    const t = tracker();
    t.push(chunk(Buffer.concat([tcp(query(22, 'x.test')), tcp(query(23, 'y.test'))]), T));
    const r = t.push(
      chunk(Buffer.concat([tcp(answer(23, 'y.test')), tcp(answer(22, 'x.test'))]), { ...T, dir: 'ingress' }),
    );
    assert.deepEqual(
      r.map((x) => x.qname),
      ['y.test', 'x.test'],
    );
  });

  it('a 64 KB message of garbage, in 4 KB records: malformed, counted, quickly', () => {
    const t = tracker();
    const msg = Buffer.concat([Buffer.from([0xff, 0xff]), Buffer.alloc(0xffff, 0xff)]);
    const t0 = process.cpuUsage(); // CPU time: a loaded machine stretches wall time
    const out: DnsTransaction[] = [];
    for (let off = 0; off < msg.length; off += 4096) {
      out.push(...t.push(chunk(msg.subarray(off, off + 4096), { ...T, stream: 0, off, len: msg.length })));
    }
    const r = one(out);
    assert.equal(r.status, 'malformed');
    assert.equal(typeof r.error, 'string');
    assert.equal(t.stats.malformed, 1);
    assert.ok(cpuMs(t0) < 500);
  });

  it('a gap never filled breaks the stream: reported once, nothing after (the stream is not started over)', () => {
    const t = tracker();
    const q = tcp(query(24, 'gap.test'));
    let out: DnsTransaction[] = [];
    for (let i = 0; i < 40; i++)
      out = out.concat(t.push(chunk(Buffer.alloc(2048, 1), { ...T, stream: 100 + i * 2048 })));
    assert.equal(one(out).error, 'gap in the TCP stream');
    // The rest of that stream keeps coming: no second fault, no new stream.
    for (let i = 40; i < 80; i++)
      assert.deepEqual(t.push(chunk(Buffer.alloc(2048, 1), { ...T, stream: 100 + i * 2048 })), []);
    assert.deepEqual(t.push(chunk(q, { ...T, stream: 0 })), []);
    assert.equal(t.waiting, 0, 'nothing framed from a broken direction');
    assert.equal(t.messages.stats.brokenStreams, 1);
  });

  it('a FIN ends the direction: a new stream at the same socket starts afresh', () => {
    const t = tracker();
    t.push(chunk(tcp(query(25, 'f.test')).subarray(0, 3), T));
    t.push(chunk(new Uint8Array(0), { ...T, fin: true }));
    t.push(chunk(tcp(query(26, 'g.test')), { ...T, stream: 0 }));
    assert.equal(one(t.push(chunk(tcp(answer(26, 'g.test')), { ...T, dir: 'ingress' }))).qname, 'g.test');
  });
});

/** A TCP chunk of `bytes` at `stream` (len: what the kernel copied of the packet from there). */
function seg(bytes: Uint8Array, stream: number, o: Partial<PayloadChunk> = {}): PayloadChunk {
  return chunk(bytes, {
    transport: 'tcp',
    conn: 5,
    sock: { ...CLIENT_SOCK, protocol: 6 },
    stream,
    len: bytes.length,
    ...o,
  });
}
const isMsg = (m: DnsWireMessage | DnsStreamFault): m is DnsWireMessage => !('error' in m);
const ids = (list: (DnsWireMessage | DnsStreamFault)[]) =>
  list.filter(isMsg).map((m) => (m.bytes[0]! << 8) | m.bytes[1]!);
/** ArrayBuffer bytes allocated by `f` and still reachable from what it returns (garbage collected before and after). */
function arrayBytesHeld(f: () => unknown): number {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  gc();
  const before = process.memoryUsage().arrayBuffers;
  const keep = f();
  gc();
  const after = process.memoryUsage().arrayBuffers;
  void keep;
  return after - before;
}

describe('DNS over TCP: long-lived connections', () => {
  it('a connection idle past the limit is taken up where it left off (place kept, buffers dropped)', () => {
    const t = tracker();
    const q1 = tcp(query(41, 'one.test'));
    const a1 = tcp(answer(41, 'one.test'));
    t.push(seg(q1, 0));
    assert.equal(one(t.push(seg(a1, 0, { dir: 'ingress' }))).status, 'answered');
    ts += 61_000_000_000; // idle past the 60 s limit
    assert.deepEqual(t.tick(ts), []);
    assert.equal(t.messages.stats.idleStreams, 2);
    const q2 = tcp(query(42, 'two.test'));
    t.push(seg(q2, q1.length));
    const r = one(t.push(seg(tcp(answer(42, 'two.test')), a1.length, { dir: 'ingress' })));
    assert.deepEqual([r.status, r.qname], ['answered', 'two.test']);
    assert.notEqual(r.latencyNs, null);
  });

  it('over the cap on directions the oldest is parked, counted, and taken up again at its place', () => {
    const m = DM({ maxStreams: 1 });
    const q1 = tcp(query(43, 'a.test'));
    const q2 = tcp(query(44, 'b.test'));
    assert.deepEqual(ids(m.push(seg(q1, 0))), [43]);
    assert.deepEqual(ids(m.push(seg(q1, 0, { conn: 6 }))), [43]);
    assert.equal(m.stats.evictedStreams, 1);
    assert.deepEqual(ids(m.push(seg(q2, q1.length))), [44], 'conn 5 framed from where it was');
  });

  it('a message begun when its direction is parked is dropped and counted; framing goes on at the next boundary', () => {
    const m = DM({ idleNs: 1_000_000_000 });
    const q1 = tcp(query(45, 'cut.test'));
    const q2 = tcp(query(46, 'next.test'));
    assert.deepEqual(m.push(seg(q1.subarray(0, 10), 0)), []);
    ts += 2_000_000_000;
    assert.deepEqual(m.expire(ts), []);
    assert.deepEqual(ids(m.push(seg(Buffer.concat([q1.subarray(10), q2]), 10))), [46]);
    assert.deepEqual([m.stats.idleStreams, m.stats.droppedMessages], [1, 1]);
  });

  it('a prefix is not an allocation: 4096 connections announcing 64 KiB messages hold what came', () => {
    const t = tracker();
    const head = Buffer.from([0xff, 0xff, ...query(47, 'x.test').subarray(0, 12)]);
    const held = arrayBytesHeld(() => {
      for (let i = 0; i < 4096; i++) t.push(seg(head, 0, { conn: 10_000 + i }));
      return t;
    });
    assert.ok(held < 32 << 20, `held ${held} bytes`);
  });

  it('bytes held ahead of gaps have one budget: the oldest holders are parked first, counted', () => {
    const t = tracker();
    const ahead = Buffer.alloc(60_000, 1);
    const held = arrayBytesHeld(() => {
      for (let i = 0; i < 4096; i++) t.push(seg(ahead, 10, { conn: 20_000 + i }));
      return t;
    });
    assert.ok(held < 96 << 20, `held ${held} bytes (245 MB without the budget)`);
    assert.ok(t.messages.stats.evictedStreams > 0);
    assert.ok(t.messages.heldBytes <= 32 << 20);
  });

  it('a FIN ahead of a gap waits for the gap: the query is whole, and answered', () => {
    const t = tracker();
    const q = tcp(query(48, 'fin.test'));
    assert.deepEqual(t.push(seg(q.subarray(5), 5, { fin: true })), []);
    assert.deepEqual(t.push(seg(q.subarray(0, 5), 0)), []);
    assert.equal(t.waiting, 1);
    const r = one(t.push(seg(tcp(answer(48, 'fin.test')), 0, { dir: 'ingress' })));
    assert.notEqual(r.latencyNs, null);
  });

  it('a FIN ahead of a gap that never fills: reported as a gap once the grace is over', () => {
    const t = tracker(30);
    const q = tcp(query(49, 'hole.test'));
    t.push(seg(q.subarray(5), 5, { fin: true }));
    const r = one(t.tick(ts + 11_000_000_000));
    assert.deepEqual([r.status, r.error, r.side], ['malformed', 'gap in the TCP stream', 'client']);
  });

  it('a direction that ends inside a message: malformed, not dropped silently', () => {
    const t = tracker();
    const q = tcp(query(50, 'short.test'));
    t.push(seg(q.subarray(0, 10), 0));
    const r = one(t.push(seg(new Uint8Array(0), 10, { fin: true })));
    assert.deepEqual([r.status, r.error], ['malformed', 'stream ended inside a message']);
  });

  it("the kernel's copy limit: a message cut there is malformed; at a boundary the direction is counted", () => {
    const t = tracker();
    const q1 = tcp(query(51, 'lim.test'));
    const q2 = tcp(query(52, 'lim2.test'));
    const cut = Buffer.concat([q1, q2.subarray(0, 5)]);
    const r = one(t.push(seg(cut, 0, { limit: true })));
    assert.deepEqual([r.status, r.error], ['malformed', 'cut at the copy limit']);
    assert.equal(t.waiting, 1, 'the whole query before the cut is taken');
    const u = tracker();
    assert.deepEqual(u.push(seg(q1, 0, { limit: true, conn: 7 })), []);
    assert.equal(u.messages.stats.limitedStreams, 1);
  });
});

describe('DNS: listener segments, late responses, responses without a question', () => {
  const SRV = { ...SERVER_SOCK, protocol: 6 };

  it("a query a listener saw (TCP_DEFER_ACCEPT, TFO) pairs with its connection's answer", () => {
    const t = tracker();
    assert.deepEqual(
      t.push(
        seg(tcp(query(61, 'deferred.test')), 0, {
          conn: 70,
          listener: true,
          dir: 'ingress',
          sock: SRV,
          proc: DNSMASQ,
        }),
      ),
      [],
    );
    const r = one(t.push(seg(tcp(answer(61, 'deferred.test')), 0, { conn: 71, sock: SRV, proc: DNSMASQ })));
    assert.deepEqual([r.side, r.status, r.qname], ['server', 'answered', 'deferred.test']);
    assert.notEqual(r.latencyNs, null);
    assert.equal(t.join.stats.joined, 1);
  });

  it("a listener's segment whose connection shows nothing goes on alone: its query times out", () => {
    const t = tracker(1);
    t.push(seg(tcp(query(62, 'alone.test')), 0, { conn: 72, listener: true, dir: 'ingress', sock: SRV }));
    const r = one(t.tick(ts + 1_000_000_000));
    assert.deepEqual([r.side, r.status, r.qname], ['server', 'timeout', 'alone.test']);
    assert.equal(t.join.stats.alone, 1);
  });

  it('a response after its timeout is counted as late, never a transaction of its own', () => {
    const t = tracker(1);
    t.push(chunk(query(63, 'slow.test')));
    assert.equal(one(t.tick(ts + 1_000_000_000)).status, 'timeout');
    assert.deepEqual(t.push(chunk(answer(63, 'slow.test'), { dir: 'ingress' })), []);
    t.push(chunk(query(64, 'slow2.test')));
    one(t.tick(ts + 1_000_000_000));
    const refused = Buffer.from([...u16(64), 0x81, 0x05, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual(t.push(chunk(refused, { dir: 'ingress' })), [], 'no question: late by id');
    assert.deepEqual([t.stats.late, t.stats.unmatched, t.stats.timeouts], [2, 0, 2]);
  });

  it('responses without a question pair by id through an index: 65536 pending, 10000 such responses, quickly', () => {
    const t = DT({ timeoutNs: 10 ** 15 });
    for (let id = 0; id < 65536; id++) t.push(chunk(query(id, 'many.test')));
    const other = { ...CLIENT_SOCK, dport: 53 };
    // CPU time, not wall time (a loaded machine stretches the latter): a scan of the pending table
    // per response would take seconds (655 million comparisons), the index milliseconds.
    const t0 = process.cpuUsage();
    for (let i = 0; i < 10000; i++) {
      t.push(chunk(Buffer.from([...u16(i), 0x81, 0x05, 0, 0, 0, 0, 0, 0, 0, 0]), { dir: 'ingress', sock: other }));
    }
    const ms = cpuMs(t0);
    assert.ok(ms < 1000, `${ms.toFixed(0)} ms of CPU`);
    const r = one(t.push(chunk(Buffer.from([...u16(7), 0x81, 0x05, 0, 0, 0, 0, 0, 0, 0, 0]), { dir: 'ingress' })));
    assert.deepEqual([r.rcode, r.qname, r.id], ['REFUSED', 'many.test', 7]);
    assert.notEqual(r.latencyNs, null);
  });
});

describe('wirelens dns tool: tick and finish', () => {
  const OPTS = { filters: { pids: [], comm: undefined, ports: [] }, hookMode: 'auto' } as unknown as LiveOptions;
  const ZERO: SockPayloadKernelStats = {
    portFiltered: 0n,
    procFiltered: 6n,
    listener: 0n,
    notFresh: 0n,
    outOfWindow: 0n,
    limit: 0n,
    cut: 0n,
  };

  /** The tool over a fake kernel whose ring holds `waiting` until drained. */
  function fake(waiting: PayloadChunk[]) {
    let onChunk: (c: PayloadChunk) => void = () => undefined;
    const family = { drain: () => waiting.splice(0).forEach((c) => onChunk(c)) } as unknown as RunningFamily;
    const tool = dnsTool([], 1, {
      start: (_o, cb) => {
        onChunk = cb;
        return family;
      },
      kernelStats: () => ZERO,
    });
    const out: DnsTransaction[] = [];
    tool.start(
      OPTS,
      new Features({ preset: {} }),
      (t) => out.push(t),
      () => undefined,
    );
    return { tool, out, feed: (c: PayloadChunk) => onChunk(c) };
  }

  it('each tick drains the ring first: an answer waiting there is not a timeout', () => {
    const answerWaiting: PayloadChunk[] = [];
    const { tool, out, feed } = fake(answerWaiting);
    feed(chunk(query(71, 'ring.test')));
    answerWaiting.push(chunk(answer(71, 'ring.test'), { dir: 'ingress' }));
    tool.tick!(ts + 2_000_000_000, (t) => out.push(t));
    assert.deepEqual(
      out.map((t) => t.status),
      ['answered'],
    );
  });

  it('finish reports the queries overdue by then, and the summary the kernel counters', () => {
    const { tool, out, feed } = fake([]);
    feed(chunk(query(72, 'end.test'), { tsNs: 1 }));
    tool.finish!((t) => out.push(t));
    assert.deepEqual(
      out.map((t) => [t.status, t.qname]),
      [['timeout', 'end.test']],
    );
    assert.match(
      tool.summary!().join('\n'),
      /dns: kernel: 6 records dropped by --pid\/--comm, 0 records or connections by --port/,
    );
  });
});

describe('DNS bad input fuzz', () => {
  it('10000 seeded random and mutated records: no throw, bounded time and memory', () => {
    let x = 12345;
    const rnd = () => {
      x ^= x << 13;
      x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      return x / 0x100000000;
    };
    const t = DT({ timeoutNs: 1000, maxPending: 100 });
    const seeds = [query(1, 'a.test'), answer(1, 'a.test'), pointerLoop(2, 'b.test'), tcp(query(3, 'c.test'))];
    const t0 = process.cpuUsage(); // CPU time: a loaded machine stretches wall time
    for (let i = 0; i < 10000; i++) {
      const b = Buffer.from(seeds[i % seeds.length]!);
      for (let k = 0; k < 3; k++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
      const cut = b.subarray(0, Math.floor(rnd() * (b.length + 1)));
      const o: Partial<PayloadChunk> = {
        transport: rnd() < 0.5 ? 'udp' : 'tcp',
        dir: rnd() < 0.5 ? 'egress' : 'ingress',
        conn: Math.floor(rnd() * 20),
        stream: Math.floor(rnd() * 200),
        off: 0,
        len: rnd() < 0.1 ? cut.length + 100 : cut.length,
        fin: rnd() < 0.05,
        sock: { ...CLIENT_SOCK, dport: rnd() < 0.5 ? 53 : 5353 },
      };
      t.push(chunk(cut, o));
      if (i % 100 === 0) t.tick(ts);
    }
    assert.ok(cpuMs(t0) < 5000);
    assert.ok(t.waiting <= 100);
  });
});

describe('DNS summary and --name', () => {
  it('top names, NXDOMAIN/SERVFAIL rates, latency per server and side', () => {
    const t = tracker();
    const s = new DnsStats();
    for (const [id, name, rcode] of [
      [1, 'h.test', 0],
      [2, 'h.test', 0],
      [3, 'nope.test', 3],
      [4, 'sf.test', 2],
    ] as const) {
      t.push(chunk(query(id, name)));
      for (const r of t.push(chunk(answer(id, name, rcode, rcode ? [] : undefined), { dir: 'ingress' }))) s.add(r);
    }
    const lines = formatDnsStats(s, (x) => x).join('\n');
    assert.match(
      lines,
      /4 transactions: 4 answered, 0 timed out, 0 malformed; NXDOMAIN 25\.0%, SERVFAIL 25\.0% of answered/,
    );
    assert.match(lines, /top names: h\.test 2, nope\.test 1, sf\.test 1/);
    assert.match(lines, /latency client side, server 127\.0\.0\.1:5353: 4 answered, p50 0\.001ms/);
  });

  it('--name is a suffix match on whole labels, any case, trailing dot ignored', () => {
    const names = parseNames(['Example.COM.']);
    assert.deepEqual(names, ['example.com']);
    assert.equal(nameMatches('www.example.com', names), true);
    assert.equal(nameMatches('EXAMPLE.com', names), true);
    assert.equal(nameMatches('badexample.com', names), false);
    assert.equal(nameMatches(null, names), false);
    assert.equal(nameMatches(null, []), true);
    for (const bad of ['', '.', 'a..b', 'sp ace']) assert.throws(() => parseNames([bad]), /not a domain name/);
  });
});
