/** The exchange assembler, head parsing, redaction and latency percentiles, over synthetic chunks. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { HttpAssembler, HttpExchange } from '../../src/analysis/http-exchanges';
import { LatencyHistogram } from '../../src/analysis/latency-histogram';
import { EndpointSample, HttpStats } from '../../src/analysis/http-stats';
import { HttpChunk } from '../../src/events/http';
import { parseRequestHead, parseResponseHead } from '../../src/protocols/http1/head';
import { redactHeaders, redactUrl } from '../../src/output/redact';

const sock = {
  netns: 1,
  family: 'ipv4' as const,
  protocol: 6,
  saddr: '127.0.0.1',
  sport: 40000,
  daddr: '127.0.0.1',
  dport: 80,
};
const proc = { pid: 10, tid: 10, uid: 0, gid: 0, cgroupId: 0n, comm: 'curl' };

function chunk(
  o: Partial<Omit<HttpChunk, 'conn'>> & { t: number; text?: string; len?: number; conn?: number | string },
): HttpChunk {
  const payload = Buffer.from(o.text ?? '', 'latin1');
  return {
    type: o.type ?? 'data',
    tsNs: o.t * 1_000_000,
    proc: o.start ? proc : null,
    sock: o.start ? sock : undefined,
    conn: typeof o.conn === 'string' ? [...o.conn].reduce((h, ch) => h * 31 + ch.charCodeAt(0), 7) : (o.conn ?? 1),
    len: o.len ?? payload.length,
    dir: o.dir ?? 'send',
    side: o.side ?? 'client',
    start: o.start ?? false,
    tail: o.tail ?? false,
    seq: o.seq ?? 0,
    gen: o.gen ?? 0,
    payload,
  };
}

function feed(a: HttpAssembler, chunks: HttpChunk[]): HttpExchange[] {
  return chunks.flatMap((c) => a.push(c));
}

const RESP = (len: number, extra = '') =>
  `HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: ${len}\r\n${extra}\r\n`;

describe('HttpAssembler', () => {
  it('pairs a client request with its response: latency to the first byte, bytes each way', () => {
    const a = new HttpAssembler();
    const head = RESP(10);
    const out = feed(a, [
      chunk({ t: 100, start: true, text: 'GET /a?x=1 HTTP/1.1\r\nHost: h\r\n\r\n' }),
      chunk({ t: 105, start: true, dir: 'recv', text: head, len: head.length + 4 }),
      chunk({ t: 107, dir: 'recv', len: 6 }),
    ]);
    assert.equal(out.length, 1, 'complete once Content-Length bytes arrived');
    const ex = out[0]!;
    assert.equal(ex.method, 'GET');
    assert.equal(ex.url, '/a?x=1');
    assert.equal(ex.host, 'h');
    assert.equal(ex.status, 200);
    assert.equal(ex.latencyNs, 5_000_000);
    assert.equal(ex.respBytes, head.length + 10);
    assert.equal(ex.contentType, 'text/html');
    assert.equal(ex.proc?.comm, 'curl');
  });

  it('the server side: requests received, responses sent; pipelined requests answered in order', () => {
    const a = new HttpAssembler();
    const out = feed(a, [
      chunk({ t: 1, start: true, side: 'server', dir: 'recv', text: 'GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n' }),
      chunk({ t: 2, start: true, side: 'server', dir: 'recv', text: 'HEAD /3 HTTP/1.1\r\n\r\n' }),
      chunk({ t: 3, start: true, side: 'server', dir: 'send', text: RESP(0) }),
      chunk({ t: 4, start: true, side: 'server', dir: 'send', text: RESP(99) }), // /2: 99 body bytes to come
    ]);
    // Two requests in one chunk are two requests.
    assert.deepEqual(
      out.map((e) => [e.url, e.status, e.side]),
      [['/1', 200, 'server']],
    );
    // The next response ends /2 and answers HEAD /3, which has no body whatever its Content-Length.
    out.push(...feed(a, [chunk({ t: 5, start: true, side: 'server', dir: 'send', text: RESP(5) })]));
    assert.deepEqual(
      out.map((e) => e.url),
      ['/1', '/2', '/3'],
    );
    assert.equal(out[0]!.reqBytes, 'GET /1 HTTP/1.1\r\n\r\n'.length);
  });

  it('ignores 1xx, ends chunked bodies at 0 CRLF CRLF, reports the unanswered at close', () => {
    const a = new HttpAssembler();
    const out = feed(a, [
      chunk({ t: 1, start: true, text: 'POST /p HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n' }),
      chunk({ t: 2, start: true, dir: 'recv', text: 'HTTP/1.1 100 Continue\r\n\r\n' }),
      chunk({ t: 3, text: 'hello' }),
      chunk({
        t: 9,
        start: true,
        dir: 'recv',
        text: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n',
      }),
      chunk({ t: 10, dir: 'recv', tail: true, text: '\r\n0\r\n\r\n', len: 20 }),
      chunk({ t: 11, start: true, text: 'GET /never HTTP/1.1\r\n\r\n' }),
      chunk({ t: 12, type: 'close' }),
    ]);
    assert.equal(out.length, 2);
    assert.equal(out[0]!.status, 200);
    assert.equal(out[0]!.latencyNs, 8_000_000, 'to the final response, not the 100');
    assert.equal(out[0]!.reqBytes, 'POST /p HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n'.length + 5);
    assert.equal(out[1]!.url, '/never');
    assert.equal(out[1]!.status, null);
    assert.equal(a.stats.unanswered, 1);
  });

  it('an interim and the final response in one chunk, and CONNECT tunnels', () => {
    const a = new HttpAssembler();
    const out = feed(a, [
      chunk({ t: 1, start: true, text: 'POST /p HTTP/1.1\r\nContent-Length: 0\r\n\r\n' }),
      chunk({
        t: 3,
        start: true,
        dir: 'recv',
        text: 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n',
      }),
      chunk({ t: 4, start: true, text: 'CONNECT h:443 HTTP/1.1\r\n\r\n' }),
      chunk({ t: 6, start: true, dir: 'recv', text: 'HTTP/1.1 200 Connection established\r\n\r\n' }),
    ]);
    assert.deepEqual(
      out.map((e) => [e.method, e.status]),
      [
        ['POST', 201],
        ['CONNECT', 200],
      ],
      'the tunnel is done at its 200',
    );
  });

  it('a bare-LF head ends at its own blank line', () => {
    const r = parseResponseHead(Buffer.from('HTTP/1.1 200 OK\nContent-Length: 4\n\nbody\r\n\r\n', 'latin1'))!;
    assert.equal(r.headBytes, 'HTTP/1.1 200 OK\nContent-Length: 4\n\n'.length);
    assert.deepEqual(r.headers, [['Content-Length', '4']]);
  });

  it('a response with a known length is not cut short by a quiet second', () => {
    const a = new HttpAssembler({ idleNs: 1e9 });
    feed(a, [
      chunk({ t: 1, start: true, text: 'GET /big HTTP/1.1\r\n\r\n' }),
      chunk({ t: 2, start: true, dir: 'recv', text: RESP(1_000_000) }),
    ]);
    assert.equal(a.flushIdle(5_000_000_000n).length, 0);
    assert.equal(a.flushIdle(40_000_000_000n).length, 1);
  });

  it('a response without a length ends when the connection goes quiet', () => {
    const a = new HttpAssembler({ idleNs: 1e9 });
    feed(a, [
      chunk({ t: 1, start: true, text: 'GET / HTTP/1.0\r\n\r\n' }),
      chunk({ t: 2, start: true, dir: 'recv', text: 'HTTP/1.0 200 OK\r\n\r\nbody' }),
    ]);
    assert.equal(a.flushIdle(500_000_000n).length, 0);
    assert.equal(a.flushIdle(1_100_000_000n).length, 1);
  });

  it('a new generation at the same conn id is a new connection', () => {
    const a = new HttpAssembler();
    feed(a, [chunk({ t: 1, seq: 1, start: true, text: 'GET /old HTTP/1.1\r\n\r\n' })]);
    const out = feed(a, [
      chunk({ t: 2, seq: 1, gen: 7, start: true, text: 'GET /new HTTP/1.1\r\n\r\n' }),
      chunk({ t: 3, seq: 1, gen: 7, start: true, dir: 'recv', text: 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n' }),
    ]);
    assert.deepEqual(
      out.map((e) => [e.url, e.status]),
      [
        ['/old', null],
        ['/new', 200],
      ],
    );
  });

  it('a reused socket address with the other role starts a new connection', () => {
    const a = new HttpAssembler();
    feed(a, [chunk({ t: 1, start: true, text: 'GET /old HTTP/1.1\r\n\r\n' })]);
    const out = feed(a, [chunk({ t: 2, start: true, side: 'server', dir: 'recv', text: 'GET /new HTTP/1.1\r\n\r\n' })]);
    assert.deepEqual(
      out.map((e) => [e.url, e.status]),
      [['/old', null]],
    );
    assert.equal(a.stats.malformed, 0);
  });

  it('lost records leave gaps in the kernel numbering; pairing stays right', () => {
    const a = new HttpAssembler();
    const req = (t: number, seq: number, url: string) =>
      chunk({ t, seq, start: true, text: `GET ${url} HTTP/1.1\r\n\r\n` });
    const resp = (t: number, seq: number, status: number) =>
      chunk({ t, seq, start: true, dir: 'recv', text: `HTTP/1.1 ${status} X\r\nContent-Length: 0\r\n\r\n` });
    const out = feed(a, [
      req(1, 1, '/a'),
      resp(2, 1, 201),
      // request 2 lost; its response 2 arrives
      resp(4, 2, 202),
      req(5, 3, '/c'),
      // response 3 lost; response 4 answers request 4
      req(7, 4, '/d'),
      resp(8, 4, 204),
    ]);
    assert.deepEqual(
      out.map((e) => [e.url, e.status]),
      [
        ['/a', 201],
        ['/d', 204],
      ],
    );
    assert.equal(a.stats.unpaired, 2, '/2 lost its request, /c its response');
  });

  it('numbering survives pipelined requests in one chunk and a final response behind a 100', () => {
    const a = new HttpAssembler();
    const resp = (t: number, seq: number, status: number) =>
      chunk({ t, seq, start: true, dir: 'recv', text: `HTTP/1.1 ${status} X\r\nContent-Length: 0\r\n\r\n` });
    const out = feed(a, [
      chunk({ t: 1, seq: 1, start: true, text: 'GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n' }), // kernel: one head
      resp(2, 1, 201),
      resp(3, 2, 202),
      chunk({ t: 4, seq: 2, start: true, text: 'POST /3 HTTP/1.1\r\nContent-Length: 0\r\n\r\n' }),
      // the kernel sees "HTTP/1.1 1.." first and does not number this chunk
      chunk({
        t: 5,
        seq: 0,
        start: true,
        dir: 'recv',
        text: 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 203 OK\r\nContent-Length: 0\r\n\r\n',
      }),
      chunk({ t: 6, seq: 3, start: true, text: 'GET /4 HTTP/1.1\r\n\r\n' }),
      resp(7, 3, 204),
    ]);
    assert.deepEqual(
      out.map((e) => [e.url, e.status]),
      [
        ['/1', 201],
        ['/2', 202],
        ['/3', 203],
        ['/4', 204],
      ],
    );
    assert.equal(a.stats.unpaired, 0);
  });

  it('stays bounded: connections and pending requests have caps, and evictions are counted', () => {
    const a = new HttpAssembler({ maxConns: 3, maxPendingPerConn: 2 });
    for (let i = 0; i < 10; i++)
      feed(a, [chunk({ t: i, conn: `c${i}`, start: true, text: `GET /${i} HTTP/1.1\r\n\r\n` })]);
    assert.equal(a.connections, 3);
    assert.equal(a.stats.evictedConns, 7);
    for (let i = 0; i < 5; i++)
      feed(a, [chunk({ t: 20 + i, conn: 'x', start: true, text: `GET /p${i} HTTP/1.1\r\n\r\n` })]);
    assert.equal(a.stats.droppedRequests, 3);
  });

  it('responses to pipelined requests written in one chunk pair one by one, and the numbering after them holds', () => {
    const a = new HttpAssembler();
    const r = (status: number, body: string) => `HTTP/1.1 ${status} X\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    const two = r(201, 'one') + r(202, 'two!');
    const out = feed(a, [
      chunk({ t: 1, seq: 1, start: true, text: 'GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n' }), // kernel: one head each way
      chunk({ t: 2, seq: 1, start: true, dir: 'recv', text: two }),
      chunk({ t: 3, seq: 2, start: true, text: 'GET /3 HTTP/1.1\r\n\r\n' }),
      chunk({ t: 4, seq: 2, start: true, dir: 'recv', text: r(404, '') }),
    ]);
    assert.deepEqual(
      out.map((e) => [e.url, e.status, e.respBytes]),
      [
        ['/1', 201, r(201, 'one').length],
        ['/2', 202, r(202, 'two!').length],
        ['/3', 404, r(404, '').length],
      ],
    );
    assert.equal(a.stats.unpaired, 0);
  });

  it('the cap on requests waiting over all connections drops the oldest, and counts only what it dropped', () => {
    const a = new HttpAssembler({ maxPendingTotal: 2 });
    for (let i = 0; i < 5; i++)
      feed(a, [chunk({ t: i, conn: `c${i}`, start: true, text: `GET /${i} HTTP/1.1\r\n\r\n` })]);
    assert.equal(a.stats.droppedRequests, 3);
    const left = a.flushAll();
    assert.deepEqual(left.map((e) => e.url).sort(), ['/3', '/4'], 'the newest two still wait');
  });

  it('binary garbage as a head is counted as malformed, never thrown', () => {
    const a = new HttpAssembler();
    const junk = String.fromCharCode(...Array.from({ length: 300 }, (_, i) => (i * 37) % 256));
    const garbage = [
      chunk({ t: 1, start: true, text: `GET ${junk}` }),
      chunk({ t: 2, start: true, dir: 'recv', text: `HTTP/1.1 ${junk}` }),
    ];
    assert.deepEqual(feed(a, [...garbage, chunk({ t: 3, type: 'close' })]), []);
    assert.equal(a.stats.malformed, 2);
  });

  it('a request head written in pieces is put together: host and headers from the later pieces', () => {
    const a = new HttpAssembler();
    const out = feed(a, [
      chunk({ t: 1, seq: 1, start: true, text: 'GET /split HTTP/1.1\r\nHo' }),
      chunk({ t: 2, text: 'st: example.test\r\nX-A: ' }),
      chunk({ t: 3, text: '1\r\n\r\n' }),
      chunk({ t: 9, seq: 1, start: true, dir: 'recv', text: 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n' }),
    ]);
    assert.equal(out.length, 1);
    assert.equal(out[0]!.host, 'example.test');
    assert.deepEqual(
      out[0]!.reqHeaders.map(([k]) => k),
      ['Host', 'X-A'],
    );
    assert.equal(out[0]!.reqBytes, 'GET /split HTTP/1.1\r\nHost: example.test\r\nX-A: 1\r\n\r\n'.length);
    assert.equal(out[0]!.latencyNs, 8_000_000, 'from the first piece');
    assert.equal(out[0]!.reqHeadTruncated, false);
  });

  it('a response read three bytes at a time pairs, and the kernel numbering after it stays aligned', () => {
    const a = new HttpAssembler();
    const resp = 'HTTP/1.1 201 Created\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello';
    const pieces: HttpChunk[] = [];
    for (let i = 0; i < resp.length; i += 3) pieces.push(chunk({ t: 10 + i, dir: 'recv', text: resp.slice(i, i + 3) }));
    const out = feed(a, [
      chunk({ t: 1, seq: 1, start: true, text: 'GET /slow HTTP/1.1\r\n\r\n' }),
      ...pieces, // too short for the kernel to recognise: not numbered
      chunk({ t: 200, seq: 2, start: true, text: 'GET /next HTTP/1.1\r\n\r\n' }),
      chunk({ t: 201, seq: 1, start: true, dir: 'recv', text: 'HTTP/1.1 202 OK\r\nContent-Length: 0\r\n\r\n' }),
    ]);
    assert.deepEqual(
      out.map((e) => [e.url, e.status, e.contentType, e.respBytes]),
      [
        ['/slow', 201, 'text/plain', resp.length],
        ['/next', 202, undefined, 38],
      ],
    );
    assert.equal(out[0]!.latencyNs, 9_000_000, 'to the first piece');
    assert.equal(a.stats.unpaired, 0);
  });

  it('a head that never ends goes on when the connection goes quiet, and never grows past its bound', () => {
    const a = new HttpAssembler({ idleNs: 1e9 });
    feed(a, [chunk({ t: 1, seq: 1, start: true, text: 'GET /x HTTP/1.1\r\nA: b\r\n' })]);
    for (let i = 0; i < 200; i++) feed(a, [chunk({ t: 2 + i, text: 'X-Long: yyyyyyyy\r\n' })]);
    const out = [...a.flushIdle(BigInt(5e9)), ...a.flushAll()];
    assert.equal(out.length, 1);
    assert.equal(out[0]!.url, '/x');
    assert.equal(out[0]!.reqHeadTruncated, true);
  });

  it('a chunked body whose last chunk comes as a small piece ends there', () => {
    const a = new HttpAssembler();
    const out = feed(a, [
      chunk({ t: 1, seq: 1, start: true, text: 'GET /c HTTP/1.1\r\n\r\n' }),
      chunk({ t: 2, seq: 1, start: true, dir: 'recv', text: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n' }),
      chunk({ t: 3, dir: 'recv', text: '4\r\nabcd\r\n' }),
      chunk({ t: 4, dir: 'recv', text: '0\r\n\r\n' }),
    ]);
    assert.equal(out.length, 1);
    assert.equal(out[0]!.status, 200);
  });
});

describe('heads cut short', () => {
  it('keeps the request line and the complete header lines', () => {
    const h = parseRequestHead(Buffer.from('GET /x HTTP/1.1\r\nHost: a\r\nUser-Ag', 'latin1'))!;
    assert.equal(h.target, '/x');
    assert.deepEqual(h.headers, [['Host', 'a']]);
    assert.equal(h.truncated, true);
    assert.equal(h.headBytes, undefined);
  });
  it('keeps a URL whose request line itself was cut', () => {
    const h = parseRequestHead(Buffer.from(`GET /${'a'.repeat(100)}`, 'latin1'))!;
    assert.equal(h.target.length, 101);
    assert.equal(h.truncated, true);
  });
  it('parses a status line; the head ends before the body bytes that came along', () => {
    const r = parseResponseHead(Buffer.from('HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nabc', 'latin1'))!;
    assert.equal(r.status, 404);
    assert.equal(r.headBytes, 'HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\n'.length);
    assert.equal(r.contentLength, '3');
  });
});

describe('redaction', () => {
  it('hides credential headers whatever their case', () => {
    assert.deepEqual(
      redactHeaders([
        ['authorization', 'Bearer x'],
        ['COOKIE', 'a=b'],
        ['Set-Cookie', 'c'],
        ['Accept', '*/*'],
      ]),
      [
        ['authorization', '[REDACTED]'],
        ['COOKIE', '[REDACTED]'],
        ['Set-Cookie', '[REDACTED]'],
        ['Accept', '*/*'],
      ],
    );
  });
  it('hides userinfo, secrets in URL-valued headers, and secret-looking parameter names', () => {
    assert.equal(redactUrl('http://bob:hunter2@example.test/x'), 'http://[REDACTED]@example.test/x');
    assert.equal(
      redactUrl('/cb?client_secret=s&X-Amz-Signature=a&user[password]=p&code=c&page=2'),
      '/cb?client_secret=[REDACTED]&X-Amz-Signature=[REDACTED]&user[password]=[REDACTED]&code=[REDACTED]&page=2',
    );
    assert.equal(redactUrl('/x?a=1;token=t'), '/x?a=1&token=[REDACTED]');
    assert.deepEqual(
      redactHeaders([
        ['Referer', 'http://h/?token=abc'],
        ['Private-Token', 'p'],
      ]),
      [
        ['Referer', 'http://h/?token=[REDACTED]'],
        ['Private-Token', '[REDACTED]'],
      ],
    );
  });

  it('hides secret query parameters, keeps the rest', () => {
    assert.equal(
      redactUrl('/login?user=bob&password=hunter2&api_key=k&x=1'),
      '/login?user=bob&password=[REDACTED]&api_key=[REDACTED]&x=1',
    );
    assert.equal(redactUrl('/plain'), '/plain');
    assert.equal(redactUrl('/bad?%E0%A4%A=1&token=t'), '/bad?%E0%A4%A=1&token=[REDACTED]');
  });
});

describe('latency percentiles', () => {
  it('are within 2% of the exact values', () => {
    const h = new LatencyHistogram();
    for (let i = 1; i <= 10000; i++) h.add(i * 10); // 10 us .. 100 ms
    for (const [q, exact] of [
      [0.5, 50000],
      [0.9, 90000],
      [0.99, 99000],
    ] as const) {
      const v = h.quantile(q);
      assert.ok(Math.abs(v - exact) / exact < 0.02, `p${q * 100}: ${v} vs ${exact}`);
    }
    assert.equal(h.max, 100000);
    assert.equal(h.quantile(1), 100000);
  });
  it('group endpoints without the query string, bounded', () => {
    const s = new HttpStats(2);
    const ex = (url: string) =>
      ({ method: 'GET', url, side: 'server', status: 200, latencyNs: 1000 }) as EndpointSample;
    for (const u of ['/a?x=1', '/a?x=2', '/b', '/c', '/d']) s.add(ex(u));
    assert.deepEqual(
      s.endpoints().map((e) => [e.endpoint, e.requests]),
      [
        ['GET /a', 2],
        ['(other)', 2],
        ['GET /b', 1],
      ].sort((x, y) => (y[1] as number) - (x[1] as number)),
    );
  });
});
