/**
 * TLS handshakes from kernel payload records: both sides of a connection,
 * a ClientHello in one-byte segments out of order, a ServerHello that never
 * comes, and hellos with absurd lengths (malformed, counted, no throw);
 * one record per connection (a late hello is not a second), a FIN ahead of
 * a gap, a listener's segment joined to its connection, memory bounds.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { TlsHandshake, TlsHandshakes } from '../../src/analysis/tls/handshakes';
import { PayloadChunk } from '../../src/events/sock-payload';
import { ProcInfo, SockInfo } from '../../src/events/record';
import { payloadChunk } from '../helpers/payload-chunk';
type ChunkFields = Parameters<typeof payloadChunk>[2];
import { viaKernel } from '../helpers/via-kernel';

/** CPU milliseconds since `t0` (process.cpuUsage()). */
const cpuMs = (t0: NodeJS.CpuUsage): number => {
  const u = process.cpuUsage(t0);
  return (u.user + u.system) / 1000;
};

/** The analyzer as the live command feeds it: kernel records through the kernel adapter. */
const TH = (o: ConstructorParameters<typeof TlsHandshakes>[0]) =>
  viaKernel<TlsHandshake[], TlsHandshakes>(new TlsHandshakes(o));

/* ---- hellos, built ---- */
const u16 = (n: number) => Buffer.from([n >> 8, n & 255]);
const vec8 = (b: Uint8Array) => Buffer.concat([Buffer.from([b.length]), b]);
const vec16 = (b: Uint8Array) => Buffer.concat([u16(b.length), b]);
const ext = (type: number, data: Uint8Array) => Buffer.concat([u16(type), vec16(data)]);
const handshake = (type: number, body: Buffer) =>
  Buffer.concat([Buffer.from([type, body.length >> 16, (body.length >> 8) & 255, body.length & 255]), body]);
const record = (fragment: Buffer) => Buffer.concat([Buffer.from([22, 3, 1]), u16(fragment.length), fragment]);

function clientHello(sni: string, alpn: string[], versions: number[]): Buffer {
  const exts = [
    ext(0, vec16(Buffer.concat([Buffer.from([0]), vec16(Buffer.from(sni))]))),
    ext(16, vec16(Buffer.concat(alpn.map((a) => vec8(Buffer.from(a)))))),
    ext(43, vec8(Buffer.concat(versions.map(u16)))),
  ];
  const body = Buffer.concat([
    u16(0x0303),
    Buffer.alloc(32, 7),
    vec8(Buffer.alloc(32, 1)),
    vec16(Buffer.concat([u16(0x1301), u16(0xc02f)])),
    vec8(Buffer.from([0])),
    vec16(Buffer.concat(exts)),
  ]);
  return record(handshake(1, body));
}

function serverHello(version: number, cipher: number, alpn?: string): Buffer {
  const exts = version === 0x0304 ? [ext(43, u16(0x0304))] : alpn ? [ext(16, vec16(vec8(Buffer.from(alpn))))] : [];
  const body = Buffer.concat([
    u16(0x0303),
    Buffer.alloc(32, 9),
    vec8(Buffer.alloc(32, 1)),
    u16(cipher),
    Buffer.from([0]),
    vec16(Buffer.concat(exts)),
  ]);
  return record(handshake(2, body));
}

/* ---- records ---- */
const CURL: ProcInfo = { pid: 300, tid: 300, uid: 0, gid: 0, cgroupId: 1, comm: 'curl' };
const NGINX: ProcInfo = { pid: 400, tid: 400, uid: 33, gid: 33, cgroupId: 1, comm: 'nginx' };
const SOCK: SockInfo = {
  netns: 1,
  family: 'ipv4',
  protocol: 6,
  saddr: '127.0.0.1',
  sport: 50000,
  daddr: '127.0.0.1',
  dport: 443,
};

let ts = 5_000_000;
function chunk(bytes: Uint8Array, o: ChunkFields = {}): PayloadChunk {
  ts += 1000;
  return payloadChunk(bytes, { tsNs: ts, proc: CURL, sock: SOCK, kind: 'tls', transport: 'tcp', dir: 'egress' }, o);
}
const tracker = () => TH({ timeoutNs: 1_000_000_000 });
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
function one(list: TlsHandshake[]): TlsHandshake {
  assert.equal(list.length, 1, `one record, got ${list.length}`);
  return list[0]!;
}

const CH = clientHello('myhost.test', ['h2', 'http/1.1'], [0x0304, 0x0303]);
const SH13 = serverHello(0x0304, 0x1302);

describe('TLS handshakes', () => {
  it('the client side: SNI, ALPN and versions offered; version and cipher chosen; the sender of the ClientHello', () => {
    const t = tracker();
    assert.deepEqual(t.push(chunk(CH)), []);
    const h = one(t.push(chunk(SH13, { dir: 'ingress', proc: CURL })));
    assert.deepEqual([h.side, h.status, h.proc, h.error], ['client', 'ok', CURL, null]);
    assert.equal(h.client!.sni, 'myhost.test');
    assert.deepEqual(h.client!.alpn, ['h2', 'http/1.1']);
    assert.deepEqual(h.client!.versions, ['TLS 1.3', 'TLS 1.2']);
    assert.deepEqual(
      [h.server!.version, h.server!.cipher, h.server!.alpn],
      ['TLS 1.3', 'TLS_AES_256_GCM_SHA384', undefined],
    );
    assert.equal(h.helloNs, 1000);
  });

  it('the server side: the process that sent the ServerHello, not the listener that owned the socket first', () => {
    const t = tracker();
    t.push(chunk(CH, { dir: 'ingress', proc: { ...NGINX, pid: 399 } }));
    const h = one(t.push(chunk(serverHello(0x0303, 0xc030, 'http/1.1'), { dir: 'egress', proc: NGINX })));
    assert.deepEqual([h.side, h.proc, h.server!.version, h.server!.alpn], ['server', NGINX, 'TLS 1.2', 'http/1.1']);
    assert.equal(h.server!.cipher, 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384');
  });

  it('a ClientHello in one-byte segments, out of order and repeated, is whole again', () => {
    const t = tracker();
    const order = [...CH.keys()].reverse();
    for (const i of order) assert.deepEqual(t.push(chunk(CH.subarray(i, i + 1), { stream: i })), []);
    t.push(chunk(CH.subarray(0, 10), { stream: 0 }));
    assert.equal(one(t.push(chunk(SH13, { dir: 'ingress' }))).client!.sni, 'myhost.test');
  });

  it('no ServerHello within the timeout, or the connection ends first: reported with the ClientHello', () => {
    const t = tracker();
    t.push(chunk(CH));
    assert.deepEqual(t.tick(ts + 999_999_999), []);
    const late = one(t.tick(ts + 1_000_000_000));
    assert.deepEqual(
      [late.status, late.side, late.client!.sni, late.server],
      ['no_server_hello', 'client', 'myhost.test', null],
    );
    t.push(chunk(CH, { conn: 2 }));
    const fin = one(t.push(chunk(new Uint8Array(0), { conn: 2, dir: 'ingress', fin: true })));
    assert.equal(fin.status, 'no_server_hello');
    assert.equal(t.waiting, 0);
    t.push(chunk(CH.subarray(0, 100), { conn: 3 }));
    const cut = one(t.tick(ts + 1_000_000_000));
    assert.deepEqual([cut.status, cut.error, cut.side], ['malformed', 'truncated (hello sent)', 'client']);
  });

  it('absurd lengths: a record over 2^14+256, a hello of 16 MB; malformed, counted', () => {
    const t = tracker();
    const bigRecord = Buffer.from([22, 3, 1, 0xff, 0xff, 1, 0, 0, 10]);
    const h1 = one(t.push(chunk(bigRecord, { conn: 3 })));
    assert.deepEqual([h1.status, h1.error], ['malformed', 'bad length (hello sent)']);
    const hugeHello = Buffer.from([22, 3, 1, 0x40, 0x00, 1, 0xff, 0xff, 0xff]);
    const h2 = one(t.push(chunk(hugeHello, { conn: 4, dir: 'ingress' })));
    assert.deepEqual([h2.status, h2.error], ['malformed', 'too long (hello received)']);
    const inner = Buffer.from(CH);
    inner.writeUInt16BE(0xfff0, 5 + 4 + 2 + 32 + 33); // the cipher suites' length, far past the message
    assert.equal(one(t.push(chunk(inner, { conn: 5 }))).status, 'malformed');
    assert.equal(t.stats.malformed, 3);
  });

  it('first bytes that only began like TLS: counted as not TLS, no record', () => {
    const t = tracker();
    assert.deepEqual(t.push(chunk(Buffer.from([0x16, 0x99, 0, 0, 0]))), []);
    assert.equal(t.stats.notTls, 1);
    assert.equal(t.waiting, 0);
  });

  it('a ServerHello after the timeout is not a second record (the connection was decided)', () => {
    const t = tracker();
    t.push(chunk(CH, { conn: 20 }));
    assert.equal(one(t.tick(ts + 1_000_000_000)).status, 'no_server_hello');
    assert.deepEqual(t.push(chunk(SH13, { conn: 20, dir: 'ingress' })), []);
    assert.deepEqual(t.tick(ts + 10_000_000_000), []);
    assert.equal(t.stats.handshakes, 1);
  });

  it('a FIN ahead of a gap waits for the gap: the ClientHello is whole, then the ServerHello makes it ok', () => {
    const t = tracker();
    const half = 60;
    assert.deepEqual(
      t.push(chunk(CH.subarray(half), { conn: 21, stream: half, len: CH.length - half, fin: true })),
      [],
    );
    assert.deepEqual(t.push(chunk(CH.subarray(0, half), { conn: 21, stream: 0, len: half })), []);
    const h = one(t.push(chunk(SH13, { conn: 21, dir: 'ingress' })));
    assert.deepEqual([h.status, h.client!.sni], ['ok', 'myhost.test']);
  });

  it("a ClientHello a listener saw (TCP_DEFER_ACCEPT, TFO) pairs with its connection's ServerHello", () => {
    const t = tracker();
    const srv = { ...SOCK, sport: 443, dport: 50000 };
    assert.deepEqual(t.push(chunk(CH, { conn: 22, listener: true, dir: 'ingress', sock: srv, proc: NGINX })), []);
    const h = one(t.push(chunk(SH13, { conn: 23, sock: srv, proc: NGINX })));
    assert.deepEqual([h.side, h.status, h.client!.sni, h.proc], ['server', 'ok', 'myhost.test', NGINX]);
    assert.equal(t.join.stats.joined, 1);
  });

  it('a hello header is not an allocation: 16384 connections announcing 16 KiB hellos hold what came', () => {
    const t = TH({ timeoutNs: 1_000_000_000, maxHello: 16 * 1024 });
    const head = Buffer.from([22, 3, 1, 0x40, 0x00, 1, 0, 0x3f, 0xf0]);
    const held = arrayBytesHeld(() => {
      for (let i = 0; i < 16384; i++) t.push(chunk(head, { conn: 100_000 + i }));
      return t;
    });
    assert.ok(held < 32 << 20, `held ${held} bytes`);
    assert.equal(t.waiting, 16384);
  });

  it("bytes held ahead of a gap: at most the hello's bound per direction, one budget in all (oldest dropped first, counted)", () => {
    const t = TH({ timeoutNs: 1_000_000_000, maxHello: 16 * 1024 });
    const big = Buffer.alloc(60_000, 7);
    const one1 = t.push(chunk(big, { conn: 30, stream: 10, len: big.length }));
    assert.deepEqual(one(one1).error, 'truncated (hello sent)', "over the hello's bound: the gap is given up");
    const ahead = Buffer.alloc(12_000, 7);
    const held = arrayBytesHeld(() => {
      for (let i = 0; i < 8192; i++) t.push(chunk(ahead, { conn: 200_000 + i, stream: 10, len: ahead.length }));
      return t;
    });
    assert.ok(held < 96 << 20, `held ${held} bytes (98 MB without the budget)`);
    assert.ok(t.heldBytes <= 32 << 20);
    assert.ok(t.stats.evicted > 0);
  });

  it('5000 seeded mutations of hellos in random pieces: no throw, bounded time', () => {
    let x = 777;
    const rnd = () => {
      x ^= x << 13;
      x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      return x / 0x100000000;
    };
    const t = TH({ timeoutNs: 1000, maxConns: 50 });
    const t0 = process.cpuUsage(); // CPU time: a loaded machine stretches wall time
    for (let i = 0; i < 5000; i++) {
      const b = Buffer.from(i % 2 ? CH : SH13);
      for (let k = 0; k < 2; k++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
      const cut = Math.floor(rnd() * b.length);
      const conn = Math.floor(rnd() * 100);
      const dir = rnd() < 0.5 ? 'egress' : 'ingress';
      t.push(chunk(b.subarray(cut), { conn, dir, stream: cut }));
      t.push(chunk(b.subarray(0, cut), { conn, dir, stream: 0, fin: rnd() < 0.1 }));
      if (i % 50 === 0) t.tick(ts);
    }
    assert.ok(cpuMs(t0) < 5000);
    assert.ok(t.waiting <= 50);
  });
});
