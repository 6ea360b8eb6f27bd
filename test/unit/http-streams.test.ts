/**
 * HTTP exchanges from stream segments (what `http -r` runs on): crafted
 * conversations seen on the wire (both ends' views) — pipelining, 1xx,
 * chunked, HEAD/204/304, until close, CONNECT/101, heads across segments
 * (latency from the head's first byte), filters, a malformed head, a
 * connection that is not HTTP — and a fuzz: any segmentation of the same
 * bytes gives the same records, random bytes never throw.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import type { FlowKey } from '../../src/model/flow';
import type { Segment } from '../../src/model/segment';
import { HttpStreamExchanges, HttpStreamOptions } from '../../src/analysis/http/streams';
import { HttpExchange } from '../../src/analysis/http/exchanges';

const KEY: FlowKey = {
  family: 'ipv4',
  protocol: 'tcp',
  clientAddr: '10.0.0.1',
  clientPort: 40000,
  serverAddr: '10.0.0.2',
  serverPort: 80,
};

/** One write: who sends it, its bytes, at which ms; fin/rst end the sender's direction. */
interface Write {
  from: 'c' | 's';
  data?: string;
  ms: number;
  fin?: boolean;
  rst?: boolean;
}

function segments(writes: Write[], conn = 1): Segment[] {
  const off = { c2s: 0, s2c: 0 };
  return writes.map((w) => {
    const dir = w.from === 'c' ? 'c2s' : 's2c';
    const bytes = Buffer.from(w.data ?? '', 'latin1');
    const s: Segment = {
      kind: 'segment',
      key: KEY,
      conn,
      dir,
      roles: 'handshake',
      offset: off[dir],
      len: bytes.length,
      bytes,
      gap: 0,
      syn: false,
      fin: w.fin === true,
      rst: w.rst === true,
      midStream: false,
      end: w.fin ? 'fin' : w.rst ? 'rst' : undefined,
      tsNs: 1000e9 + w.ms * 1e6,
      observer: 'wire',
    };
    off[dir] += bytes.length;
    return s;
  });
}

function run(writes: Write[], o: Partial<HttpStreamOptions> = {}): { ex: HttpExchange[]; a: HttpStreamExchanges } {
  const a = new HttpStreamExchanges({ headers: false, ...o });
  const ex: HttpExchange[] = [];
  for (const s of segments(writes)) ex.push(...a.push(s));
  ex.push(...a.tick(10_000_000_000_000));
  a.end();
  return { ex, a };
}

const client = (ex: HttpExchange[]) => ex.filter((e) => e.side === 'client');
const row = (e: HttpExchange) => [e.method, e.url, e.status, e.reqBytes, e.respBytes];

const R1 = 'GET /a HTTP/1.1\r\nHost: h.test\r\n\r\n';
const R2 = 'POST /b?x=1 HTTP/1.1\r\nHost: h.test\r\nContent-Length: 5\r\n\r\nhello';
const R3 = 'HEAD /c HTTP/1.1\r\nHost: h.test\r\n\r\n';
const S1 = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok';
const S2a = 'HTTP/1.1 100 Continue\r\n\r\n';
const S2 = 'HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3;e=1\r\nabc\r\n0\r\nX-T: 1\r\n\r\n';
const S3 = 'HTTP/1.1 200 OK\r\nContent-Length: 999\r\n\r\n';

describe('HttpStreamExchanges', () => {
  it('pipelined requests in one segment, responses cut anywhere: each exchange once per end, bytes on the wire', () => {
    const resp = S1 + S2a + S2 + S3;
    const { ex, a } = run([
      { from: 'c', data: R1 + R2 + R3, ms: 0 },
      { from: 's', data: resp.slice(0, 30), ms: 5 },
      { from: 's', data: resp.slice(30, 97), ms: 7 },
      { from: 's', data: resp.slice(97), ms: 9 },
    ]);
    assert.equal(ex.length, 6);
    assert.deepEqual(client(ex).map(row), [
      ['GET', '/a', 200, R1.length, S1.length],
      ['POST', '/b?x=1', 201, R2.length, S2a.length + S2.length],
      ['HEAD', '/c', 200, R3.length, S3.length],
    ]);
    const server = ex.filter((e) => e.side === 'server');
    assert.deepEqual(server.map(row), client(ex).map(row), 'the wire gives both ends alike');
    assert.equal(ex[0]!.sock.saddr, '10.0.0.1');
    assert.equal(server[0]!.sock.saddr, '10.0.0.2');
    assert.equal(client(ex)[0]!.contentType, 'text/plain');
    assert.equal(client(ex)[0]!.host, 'h.test');
    assert.equal(client(ex)[0]!.latencyNs, 5e6, 'request at 0, its response begins at 5 ms');
    // The 201's head began in the segment at 7 ms (the 100 before it at 5 ms).
    assert.equal(client(ex)[1]!.latencyNs, 7e6);
    assert.equal(a.stats.exchanges, 6);
    assert.equal(a.stats.open, 0);
  });

  it("latency runs from the request head's first byte, across segments, to the final response head's first byte", () => {
    const { ex } = run([
      { from: 'c', data: R1.slice(0, 10), ms: 100 },
      { from: 'c', data: R1.slice(10), ms: 150 },
      { from: 's', data: S1.slice(0, 5), ms: 400 },
      { from: 's', data: S1.slice(5), ms: 450 },
    ]);
    assert.deepEqual(
      client(ex).map((e) => e.latencyNs),
      [300e6],
    );
    assert.equal(client(ex)[0]!.tsNs, 1000_100_000_000);
  });

  it('a body until close ends at the server FIN; a request with no answer at an RST has no status', () => {
    const { ex } = run([
      { from: 'c', data: R1, ms: 0 },
      { from: 's', data: 'HTTP/1.0 200 OK\r\n\r\nall of it', ms: 1 },
      { from: 's', fin: true, ms: 2 },
    ]);
    assert.deepEqual(client(ex).map(row), [['GET', '/a', 200, R1.length, 'HTTP/1.0 200 OK\r\n\r\nall of it'.length]]);
    const cut = run([
      { from: 'c', data: R1 + R2.slice(0, 57), ms: 0 },
      { from: 's', data: S1, ms: 1 },
      { from: 'c', rst: true, ms: 2 },
    ]);
    assert.deepEqual(client(cut.ex).map(row), [
      ['GET', '/a', 200, R1.length, S1.length],
      ['POST', '/b?x=1', null, 57, 0],
    ]);
    assert.equal(cut.a.stats.unanswered, 2);
  });

  it('204 and 304 carry no body; exchanges still waiting at the end are counted, not reported', () => {
    const { ex, a } = run([
      { from: 'c', data: R1 + R1 + R1, ms: 0 },
      {
        from: 's',
        data: 'HTTP/1.1 204 No\r\nContent-Length: 7\r\n\r\nHTTP/1.1 304 NM\r\nContent-Length: 7\r\n\r\n',
        ms: 1,
      },
    ]);
    assert.deepEqual(
      client(ex).map((e) => e.status),
      [204, 304],
    );
    assert.equal(a.stats.open, 2, 'the third, from both ends');
  });

  it('101 and a 2xx to CONNECT end the exchange at the head, and nothing after is looked at', () => {
    for (const [req, resp] of [
      ['GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n\r\n', 'HTTP/1.1 101 Switching\r\nUpgrade: websocket\r\n\r\n'],
      ['CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n', 'HTTP/1.1 200 Connection established\r\n\r\n'],
    ]) {
      const { ex, a } = run([
        { from: 'c', data: req!, ms: 0 },
        { from: 's', data: resp! + 'GET /inside HTTP/1.1\r\n\r\n', ms: 1 },
        { from: 'c', data: 'GET /inside HTTP/1.1\r\n\r\n', ms: 2 },
        { from: 's', data: S1, ms: 3 },
      ]);
      assert.deepEqual(
        client(ex).map((e) => [e.status, e.respBytes]),
        [[Number(resp!.slice(9, 12)), resp!.length]],
      );
      assert.equal(a.stats.tunnels, 2);
    }
  });

  it('--method, --url-prefix, --url-contains and --host judge the request head; the rest is counted', () => {
    const writes: Write[] = [
      { from: 'c', data: R1 + R2 + R3, ms: 0 },
      { from: 's', data: S1 + S2 + S3, ms: 1 },
    ];
    const urls = (f: HttpStreamOptions['filters']) => client(run(writes, { filters: f }).ex).map((e) => e.url);
    assert.deepEqual(urls({ method: 'POST' }), ['/b?x=1']);
    assert.deepEqual(urls({ urlPrefix: '/c' }), ['/c']);
    assert.deepEqual(urls({ urlContains: 'x=' }), ['/b?x=1']);
    assert.deepEqual(urls({ host: 'H.TEST' }), ['/a', '/b?x=1', '/c']);
    assert.deepEqual(urls({ host: 'other' }), []);
    assert.equal(run(writes, { filters: { method: 'GET' } }).a.stats.filtered, 4);
  });

  it('--headers keeps the heads (first 2048 bytes, marked cut past them); without, the start lines only', () => {
    const big = `GET /h HTTP/1.1\r\nHost: h\r\nX-Big: ${'b'.repeat(3000)}\r\nX-Last: 1\r\n\r\n`;
    const writes: Write[] = [
      { from: 'c', data: big, ms: 0 },
      { from: 's', data: S1, ms: 1 },
    ];
    const withHeaders = client(run(writes, { headers: true }).ex)[0]!;
    assert.equal(withHeaders.reqHeadTruncated, true);
    assert.deepEqual(withHeaders.reqHeaders[0], ['Host', 'h']);
    assert.ok(!withHeaders.reqHeaders.some(([n]) => n === 'X-Last'), 'past the 2048 bytes kept');
    assert.deepEqual(withHeaders.respHeaders, [
      ['Content-Type', 'text/plain'],
      ['Content-Length', '2'],
    ]);
    const lines = client(run(writes).ex)[0]!;
    assert.deepEqual([lines.reqHeaders, lines.respHeaders, lines.reason, lines.host], [[], [], 'OK', 'h']);
  });

  it('a malformed response head drops what waits (counted); the direction takes up again at a head', () => {
    const { ex, a } = run([
      { from: 'c', data: R1, ms: 0 },
      { from: 's', data: 'HTTP/1.1 2x0 Bad\r\n\r\n', ms: 1 },
      { from: 'c', data: R3, ms: 2 },
      { from: 's', data: S3, ms: 3 },
    ]);
    assert.equal(a.stats.malformed, 2);
    assert.equal(a.stats.dropped, 2);
    assert.deepEqual(client(ex).map(row), [['HEAD', '/c', 200, R3.length, S3.length]]);
  });

  it('a connection whose first payload is not a request is not looked at', () => {
    const { ex, a } = run([
      { from: 's', data: 'SSH-2.0-x\r\n', ms: 0 },
      { from: 'c', data: R1, ms: 1 },
      { from: 's', data: S1, ms: 2 },
    ]);
    assert.deepEqual(ex, []);
    assert.equal(a.streams.stats.notTaken, 1);
  });
});

describe('HttpStreamExchanges fuzz', () => {
  let seed = 7;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const cut = (s: string): string[] => {
    const out: string[] = [];
    let i = 0;
    while (i < s.length) {
      // The first piece holds a method and its space: a connection is judged by its first payload (as the kernel does).
      const n = (i === 0 ? 9 : 1) + rnd(40);
      out.push(s.slice(i, i + n));
      i += n;
    }
    return out;
  };

  it('any segmentation of the same conversation gives the same records (times aside)', () => {
    const reqs = R1 + R2 + R3 + R1;
    const resps = S1 + S2a + S2 + S3 + S1;
    // Per end, in order (the two ends' records interleave as segments come).
    const rows = (ex: HttpExchange[]) => [...client(ex), ...ex.filter((e) => e.side === 'server')].map(row);
    const whole = rows(
      run([
        { from: 'c', data: reqs, ms: 0 },
        { from: 's', data: resps, ms: 1 },
      ]).ex,
    );
    assert.equal(whole.length, 8);
    for (let round = 0; round < 200; round++) {
      const writes: Write[] = [];
      let ms = 0;
      for (const d of cut(reqs)) writes.push({ from: 'c', data: d, ms: ms++ });
      for (const d of cut(resps)) writes.push({ from: 's', data: d, ms: ms++ });
      assert.deepEqual(rows(run(writes).ex), whole, `round ${round}`);
    }
  });

  it('random bytes, mutated heads and random segment order never throw; memory stays bounded', () => {
    const base = Buffer.from(R1 + R2 + S1 + S2, 'latin1');
    for (let round = 0; round < 300; round++) {
      const a = new HttpStreamExchanges({ headers: round % 2 === 0, maxBytes: 1 << 20 });
      const b = Buffer.from(base);
      for (let k = 0; k < 1 + rnd(12); k++) b[rnd(b.length)] = rnd(256);
      const data = round % 3 === 0 ? Buffer.from(Array.from({ length: 600 }, () => rnd(256))) : b;
      const writes: Write[] = [{ from: 'c', data: 'GET / HTTP/1.1\r\n', ms: 0 }];
      let i = 0;
      let ms = 1;
      while (i < data.length) {
        const n = 1 + rnd(64);
        writes.push({ from: rnd(2) === 0 ? 'c' : 's', data: data.subarray(i, i + n).toString('latin1'), ms: ms++ });
        i += n;
      }
      if (rnd(2) === 0) writes.push({ from: 's', fin: true, ms: ms++ });
      const segs = segments(writes);
      // Some segments out of order: held until the hole fills.
      for (let k = 0; k < 3; k++) {
        const x = 1 + rnd(segs.length - 1);
        const y = 1 + rnd(segs.length - 1);
        [segs[x], segs[y]] = [segs[y]!, segs[x]!];
      }
      for (const s of segs) a.push(s);
      a.tick(10_000_000_000_000);
      a.end();
      assert.ok(a.streams.heldBytes <= 1 << 20);
    }
  });
});
