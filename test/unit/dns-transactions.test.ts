/**
 * DNS transactions from kernel payload records: pairing from each side,
 * timeouts, UDP datagrams over several records, TCP in order and out of
 * order, and bad input (a pointer loop, a 64 KB TCP message of garbage, a
 * broken stream): marked malformed, counted, never a throw or a hang.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { DnsTransaction, DnsTransactions } from '../../src/analysis/dns-transactions';
import { DnsStats, formatDnsStats } from '../../src/analysis/dns-stats';
import { PayloadChunk } from '../../src/events/sock-payload';
import { ProcInfo, SockInfo } from '../../src/events/record';
import { nameMatches, parseNames } from '../../src/cli/dns';

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
  return Buffer.from([...u16(id), 0x85, 0x80 | rcode, ...u16(1), ...u16(a.length), 0, 0, 0, 0, ...nm(name), ...u16(type), 0, 1, ...rrs]);
}
/** A response whose answer's name is a pointer to itself. */
function pointerLoop(id: number, name: string): Buffer {
  const head = [...u16(id), 0x85, 0x80, ...u16(1), ...u16(1), 0, 0, 0, 0, ...nm(name), 0, 1, 0, 1];
  const at = head.length;
  return Buffer.from([...head, 0xc0 | (at >> 8), at & 255, 0, 1, 0, 1, ...u32(60), 0, 4, 1, 2, 3, 4]);
}
const tcp = (m: Buffer) => Buffer.concat([Buffer.from(u16(m.length)), m]);

/* ---- records ---- */
const DIG: ProcInfo = { pid: 100, tid: 100, uid: 0, gid: 0, cgroupId: 1n, comm: 'dig' };
const DNSMASQ: ProcInfo = { pid: 200, tid: 200, uid: 0, gid: 0, cgroupId: 1n, comm: 'dnsmasq' };
const CLIENT_SOCK: SockInfo = { netns: 1, family: 'ipv4', protocol: 17, saddr: '127.0.0.1', sport: 40000, daddr: '127.0.0.1', dport: 5353 };
const SERVER_SOCK: SockInfo = { ...CLIENT_SOCK, sport: 5353, dport: 40000 };

let ts = 1_000_000n;
function chunk(bytes: Uint8Array, o: Partial<PayloadChunk> = {}): PayloadChunk {
  ts += 1000n;
  return {
    tsNs: ts,
    proc: DIG,
    sock: CLIENT_SOCK,
    conn: 1n,
    kind: 'dns',
    transport: 'udp',
    dir: 'egress',
    len: bytes.length,
    off: 0,
    stream: 0,
    fin: false,
    rst: false,
    bytes,
    ...o,
  };
}
const tracker = (timeoutS = 5) => new DnsTransactions({ timeoutNs: BigInt(timeoutS * 1e9) });
function one(list: DnsTransaction[]): DnsTransaction {
  assert.equal(list.length, 1, JSON.stringify(list, (_k, v) => (typeof v === 'bigint' ? String(v) : v)));
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
    t.push(chunk(query(8, 'h.test'), { dir: 'ingress', sock: SERVER_SOCK, conn: 2n, proc: null }));
    const r = one(t.push(chunk(answer(8, 'h.test'), { sock: SERVER_SOCK, conn: 2n, proc: DNSMASQ })));
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
    assert.deepEqual(t.tick(sent + 999_999_999n), []);
    const r = one(t.tick(sent + 1_000_000_000n));
    assert.deepEqual([r.status, r.qname, r.rcode, r.latencyNs, r.side], ['timeout', 'slow.test', null, null, 'client']);
    assert.deepEqual(t.tick(sent + 5_000_000_000n), []);
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
    const at = ts + 1000n;
    const parts = [0, 4096, 8192].map((off) => ({ tsNs: at, dir: 'ingress' as const, len: big.length, off, bytes: big.subarray(off, off + 4096) }));
    assert.deepEqual(t.push(chunk(parts[2]!.bytes, parts[2])), []);
    assert.deepEqual(t.push(chunk(query(99, 'other.test'), { conn: 9n })), []);
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
    const t = new DnsTransactions({ timeoutNs: 10n ** 12n, maxPending: 2 });
    for (const id of [1, 2, 3]) t.push(chunk(query(id, 'cap.test')));
    assert.equal(t.waiting, 2);
    assert.equal(t.stats.evicted, 1);
    assert.equal(one(t.push(chunk(answer(1, 'cap.test'), { dir: 'ingress' }))).latencyNs, null, 'query 1 was evicted');
  });
});

describe('DNS transactions over TCP', () => {
  const T = { transport: 'tcp' as const, conn: 5n, sock: { ...CLIENT_SOCK, protocol: 6 } };

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
    const r = t.push(chunk(Buffer.concat([tcp(answer(23, 'y.test')), tcp(answer(22, 'x.test'))]), { ...T, dir: 'ingress' }));
    assert.deepEqual(r.map((x) => x.qname), ['y.test', 'x.test']);
  });

  it('a 64 KB message of garbage, in 4 KB records: malformed, counted, quickly', () => {
    const t = tracker();
    const msg = Buffer.concat([Buffer.from([0xff, 0xff]), Buffer.alloc(0xffff, 0xff)]);
    const t0 = performance.now();
    const out: DnsTransaction[] = [];
    for (let off = 0; off < msg.length; off += 4096) {
      out.push(...t.push(chunk(msg.subarray(off, off + 4096), { ...T, stream: 0, off, len: msg.length })));
    }
    const r = one(out);
    assert.equal(r.status, 'malformed');
    assert.equal(typeof r.error, 'string');
    assert.equal(t.stats.malformed, 1);
    assert.ok(performance.now() - t0 < 500);
  });

  it('a gap never filled breaks the stream: reported once, nothing after', () => {
    const t = tracker();
    const q = tcp(query(24, 'gap.test'));
    let out: DnsTransaction[] = [];
    for (let i = 0; i < 40; i++) out = out.concat(t.push(chunk(Buffer.alloc(2048, 1), { ...T, stream: 100 + i * 2048 })));
    assert.equal(one(out).error, 'gap in the TCP stream');
    assert.deepEqual(t.push(chunk(q, { ...T, stream: 0 })), []);
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
    const t = new DnsTransactions({ timeoutNs: 1000n, maxPending: 100 });
    const seeds = [query(1, 'a.test'), answer(1, 'a.test'), pointerLoop(2, 'b.test'), tcp(query(3, 'c.test'))];
    const t0 = performance.now();
    for (let i = 0; i < 10000; i++) {
      const b = Buffer.from(seeds[i % seeds.length]!);
      for (let k = 0; k < 3; k++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
      const cut = b.subarray(0, Math.floor(rnd() * (b.length + 1)));
      const o: Partial<PayloadChunk> = {
        transport: rnd() < 0.5 ? 'udp' : 'tcp',
        dir: rnd() < 0.5 ? 'egress' : 'ingress',
        conn: BigInt(Math.floor(rnd() * 20)),
        stream: Math.floor(rnd() * 200),
        off: 0,
        len: rnd() < 0.1 ? cut.length + 100 : cut.length,
        fin: rnd() < 0.05,
        sock: { ...CLIENT_SOCK, dport: rnd() < 0.5 ? 53 : 5353 },
      };
      t.push(chunk(cut, o));
      if (i % 100 === 0) t.tick(ts);
    }
    assert.ok(performance.now() - t0 < 5000);
    assert.ok(t.waiting <= 100);
  });
});

describe('DNS summary and --name', () => {
  it('top names, NXDOMAIN/SERVFAIL rates, latency per server and side', () => {
    const t = tracker();
    const s = new DnsStats();
    for (const [id, name, rcode] of [[1, 'h.test', 0], [2, 'h.test', 0], [3, 'nope.test', 3], [4, 'sf.test', 2]] as const) {
      t.push(chunk(query(id, name)));
      for (const r of t.push(chunk(answer(id, name, rcode, rcode ? [] : undefined), { dir: 'ingress' }))) s.add(r);
    }
    const lines = formatDnsStats(s, (x) => x).join('\n');
    assert.match(lines, /4 transactions: 4 answered, 0 timed out, 0 malformed; NXDOMAIN 25\.0%, SERVFAIL 25\.0% of answered/);
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
