/** HTTP/1.x incremental parser over byte fixtures, split at every byte boundary. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { Http1Event, Http1Stream } from '../../src/protocols/http1/stream';
import { looksLikeRequest, looksLikeResponse } from '../../src/protocols/http1/syntax';

const b = (s: string) => Buffer.from(s, 'latin1');

function feed(role: 'request' | 'response', parts: Buffer[], methods: string[] = []): Http1Event[] {
  const s = new Http1Stream(role);
  methods.forEach((m) => s.expectResponseTo(m));
  const out: Http1Event[] = [];
  for (const p of parts) out.push(...s.push(p));
  out.push(...s.end());
  return out;
}

/** Same events whether the bytes come whole, in two pieces at every split, or one byte at a time. */
function assertSplitInvariant(role: 'request' | 'response', bytes: Buffer, methods: string[] = []): Http1Event[] {
  const whole = feed(role, [bytes], methods);
  for (let cut = 1; cut < bytes.length; cut++) {
    assert.deepEqual(feed(role, [bytes.subarray(0, cut), bytes.subarray(cut)], methods), whole, `split at ${cut}`);
  }
  const bytewise = [...bytes].map((x) => Buffer.from([x]));
  assert.deepEqual(feed(role, bytewise, methods), whole, 'byte at a time');
  return whole;
}

const PIPELINED =
  'GET /api/users?id=7 HTTP/1.1\r\nHost: example.test\r\nAuthorization: Bearer secret123\r\n\r\n' +
  'POST /api/items HTTP/1.1\r\nHost: example.test\r\nContent-Length: 11\r\nContent-Type: text/plain\r\n\r\nhello world' +
  'PUT /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n3;ext=1\r\nfgh\r\n0\r\nX-Trailer: 1\r\n\r\n' +
  'DELETE /x HTTP/1.0\r\n\r\n';

describe('Http1Stream requests', () => {
  it('pipelined GET, POST (Content-Length), PUT (chunked + trailer), DELETE', () => {
    const ev = assertSplitInvariant('request', b(PIPELINED));
    const reqs = ev.filter((e) => e.kind === 'request');
    assert.deepEqual(
      reqs.map((r) => [r.method, r.target, r.version]),
      [
        ['GET', '/api/users?id=7', '1.1'],
        ['POST', '/api/items', '1.1'],
        ['PUT', '/up', '1.1'],
        ['DELETE', '/x', '1.0'],
      ],
    );
    assert.equal(reqs[0]!.host, 'example.test');
    assert.deepEqual(
      ev.filter((e) => e.kind === 'end').map((e) => e.bodyBytes),
      [0, 11, 8, 0],
    );
    assert.equal(
      ev.some((e) => e.kind === 'error'),
      false,
    );
  });

  it('every method', () => {
    for (const m of ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'TRACE']) {
      const ev = feed('request', [b(`${m} / HTTP/1.1\r\nHost: a\r\n\r\n`)]);
      assert.equal(ev[0]?.kind === 'request' && ev[0].method, m);
    }
    const c = feed('request', [
      b('CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n\r\n\x16\x03\x01binary'),
    ]);
    assert.equal(c[0]?.kind === 'request' && c[0].target, 'example.test:443');
    assert.equal(c.length, 1, 'a tunnel carries no more HTTP');
  });

  it('Expect: 100-continue and empty lines before a request', () => {
    const ev = feed('request', [
      b('\r\n\r\nPOST /big HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc'),
    ]);
    assert.equal(ev[0]?.kind === 'request' && ev[0].expectContinue, true);
    assert.deepEqual(ev[1], { kind: 'end', bodyBytes: 3, bytes: 70 }, 'the empty lines count as the message bytes');
  });

  it('counts the bytes of every message on the wire (head, body, chunk framing, trailers), and keeps heads when asked', () => {
    const s = new Http1Stream('request', { maxHeaderBytes: 1024, maxUrlBytes: 4096, keepHeadBytes: 40 });
    const ev = [...s.push(b(PIPELINED)), ...s.end()];
    const ends = ev.filter((e) => e.kind === 'end');
    assert.equal(
      ends.reduce((n, e) => n + e.bytes, 0),
      PIPELINED.length,
    );
    const heads = ev.filter((e) => e.kind === 'request');
    assert.equal(Buffer.from(heads[0]!.raw!).toString('latin1'), PIPELINED.slice(0, 40));
    assert.equal(heads[3]!.raw!.length, 'DELETE /x HTTP/1.0\r\n\r\n'.length);
    assert.equal(s.messageBytes, 0);
  });

  it('a head arriving a byte at a time costs its length, not its square', () => {
    const s = new Http1Stream('request', { maxHeaderBytes: 256 * 1024, maxUrlBytes: 4096 });
    const head = b(`GET / HTTP/1.1\r\nX-Big: ${'a'.repeat(200 * 1024)}\r\n\r\n`);
    const t0 = process.cpuUsage();
    const out: Http1Event[] = [];
    for (let i = 0; i < head.length; i++) out.push(...s.push(head.subarray(i, i + 1)));
    const us = process.cpuUsage(t0).user;
    assert.deepEqual(
      out.map((e) => e.kind),
      ['request', 'end'],
    );
    assert.ok(us < 2_000_000, `${us} us of CPU for a 200 KB head byte by byte`);
  });

  it('cuts long URLs and says so', () => {
    const target = '/' + 'a'.repeat(5000);
    const ev = feed('request', [b(`GET ${target} HTTP/1.1\r\n\r\n`)]);
    const r = ev[0]!;
    assert.ok(r.kind === 'request');
    assert.equal(r.target.length, 4096);
    assert.equal(r.targetTruncated, true);
  });

  it('a 100 KB header line ends the stream with an error, memory bounded', () => {
    const s = new Http1Stream('request');
    const out = [...s.push(b('GET / HTTP/1.1\r\nX-Big: ')), ...s.push(Buffer.alloc(100 * 1024, 0x61))];
    assert.deepEqual(out, [{ kind: 'error', reason: 'header block too large' }]);
    assert.equal(s.dead, true);
    assert.deepEqual(s.push(b('GET / HTTP/1.1\r\n\r\n')), [], 'a dead stream stays silent');
  });

  it('binary garbage and malformed heads are errors, never throws', () => {
    const rnd = Buffer.alloc(4096);
    let x = 12345;
    for (let i = 0; i < rnd.length; i++) rnd[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
    for (const input of [
      rnd,
      b('\x16\x03\x01\x02\x00\r\n\r\n'),
      b('GET / HTTP/1.1\r\nno colon here\r\n\r\n'),
      b('GET / HTTP/1.1\r\nContent-Length: -5\r\n\r\n'),
      b('GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'),
    ]) {
      const ev = feed('request', [input]);
      assert.ok(ev.every((e) => e.kind !== 'request' || e.method === 'GET'));
      assert.ok(
        ev.some((e) => e.kind === 'error'),
        `error for ${JSON.stringify(input.subarray(0, 20).toString('latin1'))}`,
      );
    }
  });

  it('a connection closed mid-request is flagged', () => {
    const ev = feed('request', [b('POST /x HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc')]);
    assert.deepEqual(ev.at(-1), { kind: 'error', reason: 'connection closed mid-message' });
  });
});

const RESPONSES =
  'HTTP/1.1 100 Continue\r\n\r\n' +
  'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}' +
  'HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n' + // answer to HEAD: no body despite the length
  'HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nnope\r\n0\r\n\r\n' +
  'HTTP/1.1 204 No Content\r\n\r\n' +
  'HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n' +
  'HTTP/1.0 200 OK\r\n\r\nuntil close';

describe('Http1Stream responses', () => {
  it('1xx, Content-Length, HEAD, chunked, 204, 304, read-until-close', () => {
    const methods = ['POST', 'HEAD', 'GET', 'GET', 'GET', 'GET'];
    const ev = assertSplitInvariant('response', b(RESPONSES), methods);
    const resp = ev.filter((e) => e.kind === 'response');
    assert.deepEqual(
      resp.map((r) => [r.status, r.interim]),
      [
        [100, true],
        [200, false],
        [200, false],
        [404, false],
        [204, false],
        [304, false],
        [200, false],
      ],
    );
    assert.equal(resp[1]!.contentType, 'application/json');
    assert.equal(resp[3]!.reason, 'Not Found');
    assert.deepEqual(
      ev.filter((e) => e.kind === 'end').map((e) => e.bodyBytes),
      [2, 0, 4, 0, 0, 11],
    );
  });

  it('101 Switching Protocols stops parsing (the bytes after are not HTTP)', () => {
    const ev = feed(
      'response',
      [b('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello')],
      ['GET'],
    );
    assert.deepEqual(
      ev.map((e) => e.kind),
      ['response', 'end'],
    );
  });
});

describe('heuristics', () => {
  it('recognise request and response starts, reject the rest', () => {
    assert.equal(looksLikeRequest(b('GET / HTTP/1.1')), true);
    assert.equal(looksLikeRequest(b('OPTIONS * HTTP/1.1')), true);
    assert.equal(looksLikeRequest(b('\x16\x03\x01')), false);
    assert.equal(looksLikeRequest(b('SSH-2.0-OpenSSH')), false);
    assert.equal(looksLikeResponse(b('HTTP/1.1 200 OK')), true);
    assert.equal(looksLikeResponse(b('HTTP/2')), false);
    assert.equal(looksLikeResponse(b('\x00\x00\x12\x04')), false);
  });
});
