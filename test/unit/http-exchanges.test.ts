/** An exchange from the kernel's record, head parsing, redaction, the endpoint table and latency percentiles. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { exchangeOf } from '../../src/analysis/http/exchanges';
import { LatencyHistogram } from '../../src/analysis/stats/latency-histogram';
import { EndpointSample, HttpStats, Log2Latency, kernelEndpoints, routeOf } from '../../src/analysis/http/stats';
import { HttpRecord } from '../../src/events/http';
import { HTTP } from '../../src/events/layout';
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
const proc = { pid: 10, tid: 10, uid: 0, gid: 0, cgroupId: 0, comm: 'curl' };

function rec(o: Partial<HttpRecord> & { reqText?: string; respText?: string }): HttpRecord {
  return {
    tsNs: 1_000_000,
    proc,
    sock,
    conn: 7,
    side: 'client',
    no: 1,
    end: 'response',
    status: 200,
    latencyNs: 1_500_000,
    reqBytes: 100,
    respBytes: 200,
    flags: 0,
    method: 'GET',
    host: undefined,
    contentType: undefined,
    req: Buffer.from(o.reqText ?? 'GET /x HTTP/1.1\r\nHost: a\r\n\r\n', 'latin1'),
    resp: Buffer.from(o.respText ?? 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n', 'latin1'),
    ...o,
  };
}

describe('an exchange from its kernel record', () => {
  it("whole heads (--headers): every header, the status line, the kernel's counts", () => {
    const ex = exchangeOf(rec({ host: 'a', contentType: 'text/plain' }), true);
    assert.equal(ex.method, 'GET');
    assert.equal(ex.url, '/x');
    assert.equal(ex.version, '1.1');
    assert.equal(ex.status, 200);
    assert.equal(ex.reason, 'OK');
    assert.equal(ex.latencyNs, 1_500_000);
    assert.deepEqual([ex.reqBytes, ex.respBytes], [100, 200]);
    assert.deepEqual(ex.reqHeaders, [['Host', 'a']]);
    assert.deepEqual(ex.respHeaders, [['Content-Length', '3']]);
    assert.equal(ex.host, 'a');
    assert.equal(ex.contentType, 'text/plain');
    assert.equal(ex.urlTruncated, false);
  });

  it('start lines only: no header list, host and content type from the record', () => {
    const ex = exchangeOf(
      rec({
        flags: HTTP.F_LINES,
        reqText: 'GET /a?b=1 HTTP/1.0\r\n',
        respText: 'HTTP/1.1 404 Not Found\r\n',
        status: 404,
        host: 'h.test',
        contentType: 'text/html',
      }),
      false,
    );
    assert.deepEqual(
      [ex.url, ex.version, ex.status, ex.reason, ex.host],
      ['/a?b=1', '1.0', 404, 'Not Found', 'h.test'],
    );
    assert.deepEqual([ex.reqHeaders, ex.respHeaders, ex.reqHeadTruncated], [[], [], false]);
  });

  it('empty lines before a start line are skipped; a cut request line marks the URL cut', () => {
    assert.equal(exchangeOf(rec({ reqText: '\r\nGET /y HTTP/1.1\r\n\r\n' }), false).url, '/y');
    const cut = exchangeOf(rec({ reqText: `GET /${'a'.repeat(50)}`, flags: HTTP.F_REQ_CUT }), true);
    assert.equal(cut.url.length, 51);
    assert.equal(cut.urlTruncated, true);
    assert.equal(cut.reqHeadTruncated, true);
  });

  it('no final response: status, latency and reason are empty; a head not kept keeps its method', () => {
    const ex = exchangeOf(rec({ status: 0, latencyNs: 0, end: 'closed', respText: '' }), false);
    assert.deepEqual([ex.status, ex.latencyNs, ex.reason], [null, null, '']);
    const lost = exchangeOf(rec({ req: new Uint8Array(0), method: 'PUT', flags: HTTP.F_REQ_LOST }), false);
    assert.deepEqual([lost.method, lost.url, lost.urlTruncated], ['PUT', '', true]);
  });

  it('binary garbage in a copied head is no exchange field, never thrown', () => {
    const ex = exchangeOf(rec({ reqText: '\x00\xff\x01', respText: '\x16\x03\x01' }), true);
    assert.equal(ex.url, '');
    assert.equal(ex.method, 'GET');
    assert.equal(ex.reason, '');
  });
});

describe('endpoints', () => {
  it('the route: the path up to ? or #, all-digit segments as {n}', () => {
    assert.equal(routeOf('/users/123/posts/7?x=1'), '/users/{n}/posts/{n}');
    assert.equal(routeOf('/v2/a1/007#frag'), '/v2/a1/{n}');
    assert.equal(routeOf('http://h:80/x/9'), 'http://h:80/x/{n}');
    assert.equal(routeOf('*'), '*');
  });

  it('kernel rows: log2 buckets give quantiles within their bucket, and the max exact', () => {
    const lat = new Array<number>(HTTP.LAT_BUCKETS).fill(0);
    lat[9] = 90; // 512..1023 us
    lat[13] = 10; // 8..16 ms
    const h = new Log2Latency(lat, 9_000_000);
    assert.equal(h.count, 100);
    assert.ok(h.quantile(0.5) >= 512 && h.quantile(0.5) < 1024, String(h.quantile(0.5)));
    assert.ok(h.quantile(0.99) >= 8192 && h.quantile(0.99) <= 9000, String(h.quantile(0.99)));
    assert.equal(h.max, 9000);
  });

  it('kernel rows with the same shown endpoint add up; classes by status', () => {
    const lat = new Array<number>(HTTP.LAT_BUCKETS).fill(0);
    const row = (n: number) => ({
      side: 'server',
      endpoint: 'GET /a',
      count: n,
      status: [0, 0, n, 0, 0, 0],
      latMaxNs: 1000 * n,
      lat: lat.map((_, i) => (i === 3 ? n : 0)),
    });
    const [e] = kernelEndpoints([row(2), row(3)]);
    assert.deepEqual([e!.requests, e!.status, e!.latency.count, e!.latency.max], [5, { '2xx': 5 }, 5, 3]);
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
    // The separators stay as they were; only secret values go.
    assert.equal(redactUrl('/x?a=1;token=t&b=2'), '/x?a=1;token=[REDACTED]&b=2');
    // A secret inside another parameter's value, and a secret whose value holds a '?'.
    assert.equal(redactUrl('/login?next=/a?access_token=T0K&x=1'), '/login?next=/a?access_token=[REDACTED]&x=1');
    assert.equal(redactUrl('/x?password=a?b=c&y=2'), '/x?password=[REDACTED]&y=2');
    // Path parameters (servlet session ids) are secrets too, in any segment, cut or not.
    assert.equal(
      redactUrl('/p;jsessionid=SECRETJS?a=1;token=S&b=2'),
      '/p;jsessionid=[REDACTED]?a=1;token=[REDACTED]&b=2',
    );
    assert.equal(redactUrl('/x;v=1/y;sessionid=abc/z'), '/x;v=1/y;sessionid=[REDACTED]/z');
    assert.equal(redactUrl('/p;jsessionid=SEC', true), '/p;jsessionid=[REDACTED]');
    assert.equal(redactUrl('/a?x=1&token=2#t'), '/a?x=1&token=[REDACTED]#t');
    assert.deepEqual(
      redactHeaders([
        ['Referer', 'http://h/?token=abc'],
        ['Private-Token', 'p'],
        ['Cookie2', 'c'],
        ['Referer', 'http://h/app;jsessionid=J/'],
      ]),
      [
        ['Referer', 'http://h/?token=[REDACTED]'],
        ['Private-Token', '[REDACTED]'],
        ['Cookie2', '[REDACTED]'],
        ['Referer', 'http://h/app;jsessionid=[REDACTED]/'],
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
  it('group endpoints by route (no query, numbers folded), bounded', () => {
    const s = new HttpStats(2);
    const ex = (url: string) =>
      ({ method: 'GET', url, side: 'server', status: 200, latencyNs: 1000 }) as EndpointSample;
    for (const u of ['/a?x=1', '/a?x=2', '/b', '/c', '/d']) s.add(ex(u));
    const folded = new HttpStats();
    for (const u of ['/a/1', '/a/22?q=3', '/a/b1']) folded.add(ex(u));
    assert.deepEqual(
      folded.endpoints().map((e) => [e.endpoint, e.requests]),
      [
        ['GET /a/{n}', 2],
        ['GET /a/b1', 1],
      ],
    );
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
