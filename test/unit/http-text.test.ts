/** `wirelens http` text lines: widths, alignment, the remote column, marks; the reorder window. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { HttpExchange } from '../../src/analysis/http/exchanges';
import { HttpStats } from '../../src/analysis/http/stats';
import { Clock } from '../../src/output/clock';
import { HttpView, httpRoute, httpView } from '../../src/output/http-view';
import { compactDuration, formatHttpStats, httpHeaderLine, httpLine, httpTextLayout } from '../../src/output/http-text';
import { ReorderWindow } from '../../src/output/reorder';

const clock = new Clock();

function ex(over: Partial<HttpExchange> = {}): HttpExchange {
  return {
    tsNs: 1_000_000,
    side: 'client',
    proc: { pid: 4242, tid: 4242, uid: 0, comm: 'curl' },
    sock: { netns: 1, family: 'ipv4', protocol: 6, saddr: '127.0.0.1', sport: 51234, daddr: '127.0.0.1', dport: 8080 },
    method: 'GET',
    url: '/api/users?id=7',
    urlTruncated: false,
    host: 'x',
    version: '1.1',
    status: 200,
    reason: 'OK',
    latencyNs: 1_234_567,
    reqBytes: 80,
    respBytes: 1234567,
    contentType: 'text/plain',
    reqHeaders: [['Host', 'x']],
    respHeaders: [],
    reqHeadTruncated: false,
    respHeadTruncated: false,
    ...over,
  } as HttpExchange;
}

const width = (s: string): number => [...s].length;

describe('http text lines', () => {
  const narrow = httpTextLayout(80);
  const lines = (layout = narrow, exs: HttpExchange[]) => [
    httpHeaderLine(layout),
    ...exs.map((e) => httpLine(httpView(e, true), clock, layout, false)),
  ];
  const v6 = ex({
    side: 'server',
    proc: { pid: 1, tid: 1, uid: 0, gid: 0, cgroupId: 0, comm: '\x1b[31mevil\x1b[0mname' } as HttpExchange['proc'],
    sock: {
      netns: 1,
      family: 'ipv6',
      protocol: 6,
      saddr: 'fe80::1',
      sport: 80,
      daddr: 'fe80::a8c1:abff:fe2c:1234',
      dport: 51234,
    },
    url: '/' + 'x'.repeat(300),
  });

  it('fit 80 columns on an 80-column terminal, columns aligned with an IPv6 link-local peer and an escaped name', () => {
    const ls = lines(narrow, [ex(), v6]);
    for (const l of ls) assert.ok(width(l) <= 80, `${width(l)} columns: ${l}`);
    // Every column starts at the same place on every line: the request is at one offset.
    const at = ls.map((l, i) => l.indexOf(i === 0 ? 'REQUEST' : 'GET '));
    assert.equal(new Set(at).size, 1, ls.join('\n'));
    assert.match(ls[1]!, /127\.0\.0\.1:8080 +200 +1\.235ms GET \/api\/users\?id=7$/, 'the remote is the peer');
    assert.match(ls[2]!, / \[fe80::a8c\u2026234\]:51234 /, 'a long peer is cut in the middle, its port kept');
    assert.match(ls[2]!, / \\x1b\[31\u2026 /, 'the escaped name is cut, not shifted');
    assert.match(ls[2]!, /\u2026$/, 'the request is cut at the edge, marked');
    assert.doesNotMatch(ls.join(''), /\x1b/);
  });

  it('without a terminal the request is whole', () => {
    const l = httpLine(httpView(v6, true), clock, httpTextLayout(undefined), false);
    assert.ok(l.endsWith('x'.repeat(300)));
  });

  it('a wide terminal shows the PID, bytes each way and a whole IPv6 peer', () => {
    const wide = httpTextLayout(200);
    const ls = lines(wide, [ex(), v6]);
    for (const l of ls) assert.ok(width(l) <= 200);
    assert.match(ls[0]!, /PID/);
    assert.match(ls[1]!, / 4242 curl /);
    assert.match(ls[1]!, / 80 +1\.23M GET /);
    assert.match(ls[2]!, /\[fe80::a8c1:abff:fe2c:1234\]:51234/);
    const at = ls.map((l, i) => l.indexOf(i === 0 ? 'REQUEST' : 'GET '));
    assert.equal(new Set(at).size, 1, ls.join('\n'));
  });

  it('mark a cut header list under the headers', () => {
    const l = httpLine(httpView(ex({ reqHeadTruncated: true }), true), clock, narrow, true).split('\n');
    assert.deepEqual(l.slice(1), [
      '    > Host: x',
      '    > (more headers not captured: the kernel copies the first 2048 bytes of a head)',
    ]);
  });

  it('durations fit 7 columns', () => {
    for (const ns of [1, 9_999_999, 12_345_678, 123_456_789, 999_999_999, 1.5e9, 99e9, 1e12])
      assert.ok(compactDuration(ns).length <= 7, compactDuration(ns));
  });

  it('the per-endpoint table fits 80 columns before the endpoint, keyed by the shown URL', () => {
    const s = new HttpStats();
    s.add(httpView(ex({ url: 'http://bob:hunter2@h/p?password=x' }), true));
    const t = formatHttpStats(s.endpoints());
    assert.equal(t.length, 2);
    assert.ok(t[1]!.endsWith('  GET http://[REDACTED]@h/p'), t[1]);
    assert.ok(t[1]!.indexOf('GET') <= 62, t[1]);
    assert.ok(t[0]!.indexOf('ENDPOINT') + 'wirelens: '.length <= 72);
  });

  it("a long endpoint is cut to the output's width with …; without a width (a pipe, a file) it stays whole", () => {
    const s = new HttpStats();
    const long = '/' + 'a'.repeat(2043);
    s.add(httpView(ex({ url: long }), true));
    s.add(httpView(ex({ url: '/short' }), true));
    const cut = formatHttpStats(s.endpoints(), 100);
    assert.equal(cut.length, 3);
    for (const l of cut) assert.ok(width(l) <= 100, `${width(l)} columns: ${l.slice(0, 120)}`);
    assert.ok(cut[1]!.endsWith(`GET /${'a'.repeat(100 - 62 - 6)}…`), cut[1]);
    assert.ok(cut[2]!.endsWith('  GET /short'), 'a short one is left as it is');
    const whole = formatHttpStats(s.endpoints());
    assert.ok(whole[1]!.endsWith(`GET ${long}`), 'whole without a width');
    const narrow = formatHttpStats(s.endpoints(), 40);
    assert.equal(width(narrow[1]!), 62 + 16, 'the endpoint keeps 16 columns on a narrow terminal');
  });

  it('a route the kernel cut (--stats-only) ends on a whole character before its …, not on half of one', () => {
    const head = 'a'.repeat(62);
    // 64 bytes kept of `/${head}ééé`: the first é is split.
    const kept = `/${head.slice(0, 61)}\xc3\xa9\xc3`.slice(0, 64);
    assert.equal(Buffer.from(kept, 'latin1').length, 64);
    assert.equal(httpRoute('GET', kept, true, true), `GET /${head.slice(0, 61)}é…`);
    assert.equal(httpRoute('GET', `/${head}\xc3`, true, false), `GET /${head}…`);
    assert.equal(httpRoute('GET', `/x\xe2\x82`, true, true), 'GET /x…', 'a 3-byte sequence cut after 2');
    assert.equal(httpRoute('GET', `/x\xf0\x9f\x98`, true, true), 'GET /x…', 'a 4-byte one cut after 3');
    assert.equal(httpRoute('GET', `/x\xe2\x82\xac`, true, true), 'GET /x€…', 'a whole one is kept');
    // Not cut by the kernel: the bytes are what they are (an invalid end is shown escaped).
    assert.equal(httpRoute('GET', `/x\xc3`, false, true), 'GET /x\\xc3');
    // Only the end: a bad byte inside stays escaped.
    assert.equal(httpRoute('GET', `/\xff/x\xc3`, true, true), 'GET /\\xff/x…');
    // A URL the kernel's head copy cut (url_truncated) ends the same way; a whole one keeps its bytes.
    assert.equal(httpView(ex({ url: `/x\xe2\x82`, urlTruncated: true }), true).url, '/x');
    assert.equal(httpView(ex({ url: `/x\xe2\x82\xac`, urlTruncated: true }), true).url, '/x€');
    assert.equal(httpView(ex({ url: `/x\xc3`, urlTruncated: false }), true).url, '/x\\xc3');
  });
});

describe('the shown form of an exchange', () => {
  it('redacts userinfo, a cut authority, secret parameters and credential headers, then decodes', () => {
    const v = httpView(
      ex({
        url: 'http://bob:hunter2@h/caf\xc3\xa9?password=pw&q=1',
        reqHeaders: [
          ['Authorization', 'Basic x'],
          ['X-Name', 'caf\xc3\xa9\x9b'],
        ],
      }),
      true,
    );
    assert.equal(v.url, 'http://[REDACTED]@h/café?password=[REDACTED]&q=1');
    assert.deepEqual(v.reqHeaders, [
      ['Authorization', '[REDACTED]'],
      ['X-Name', 'café\\x9b'],
    ]);
    const cut = httpView(ex({ url: `http://bob:${'p'.repeat(4096)}`, urlTruncated: true }), true);
    assert.equal(cut.url, 'http://[REDACTED]', 'the @ was cut off: the whole authority goes');
    assert.equal(httpView(ex({ url: 'http://h:8080' }), true).url, 'http://h:8080');
    assert.equal(httpView(ex({ url: 'http://bob:pw@h/' }), false).url, 'http://bob:pw@h/', '--no-redact');
  });
});

describe('ReorderWindow', () => {
  const view = (t: number) => ({ tsNs: t }) as HttpView;
  it('releases records in stamp order once the window has passed, and everything at the end', () => {
    const out: number[] = [];
    const w = new ReorderWindow<HttpView>((v) => v.tsNs, 100);
    const emit = (v: HttpView) => out.push(Number(v.tsNs));
    for (const t of [50, 10, 30]) w.add(view(t), emit);
    w.flush(120, emit); // due: stamped at or before 20
    assert.deepEqual(out, [10]);
    w.add(view(5), emit); // later than the window: next release, never lost
    w.flush(160, emit);
    assert.deepEqual(out, [10, 5, 30, 50]);
    w.add(view(200), emit);
    w.flushAll(emit);
    assert.deepEqual(out, [10, 5, 30, 50, 200]);
    assert.equal(w.size, 0);
  });
  it('is bounded: above max the oldest go at once', () => {
    const out: number[] = [];
    const w = new ReorderWindow<HttpView>((v) => v.tsNs, 1_000_000, 10);
    for (let t = 20; t > 0; t--) w.add(view(t), (v) => out.push(Number(v.tsNs)));
    assert.ok(w.size <= 10);
    assert.equal(out.length + w.size, 20, 'none lost');
    w.flushAll((v) => out.push(Number(v.tsNs)));
    assert.deepEqual(
      [...out].sort((a, b) => a - b),
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
  });
});
