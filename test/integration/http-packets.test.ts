/**
 * `wirelens http` on the packet path: framing the kernel does itself
 * (bpf/http.bpf.c), with peers that write exactly the bytes a test gives in
 * the pieces it gives (test/fixtures/http-script.js): pipelined requests and
 * responses in one packet each, 1xx before the final response, chunked
 * bodies cut anywhere with trailers, HEAD/204/304 with lengths but no body,
 * CONNECT and 101 (nothing after them is HTTP), a body that ends at close, a
 * head cut between CR and LF, a keep-alive connection older than wirelens.
 * Then volume against nginx's access log: 20,000 keep-alive requests are
 * 20,000 exchanges on each side, and --stats-only counts what the log counts.
 */
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { routeOf } from '../../src/analysis/http/stats';
import { FIXTURES, CLI } from '../helpers/paths';
import { startFixtureServer, startIn } from '../helpers/fixtures';
import { startNginx, TestNginx } from '../helpers/nginx';
import { Spawned, start, stop, waitFor } from '../helpers/proc';
import { kernelSkipReason } from '../helpers/skip';
import { Rec, startWirelens } from '../helpers/wirelens';
import { assertSame, tcpdumpLo, wirelensJson } from '../helpers/offline';

const skip = kernelSkipReason();
const SCRIPT = path.join(FIXTURES, 'http-script.js');

interface Step {
  wait?: string;
  write?: string;
  delayMs?: number;
}
interface Script {
  steps: Step[];
  close?: boolean;
  lingerMs?: number;
}

interface Scenario {
  name: string;
  server: Script;
  client: Script;
  check(client: Rec[], server: Rec[]): void;
}

const CRLF = '\r\n';
const req = (method: string, target: string, host: string, extra = ''): string =>
  `${method} ${target} HTTP/1.1${CRLF}Host: ${host}${CRLF}${extra}${CRLF}`;
const resp = (status: string, headers: string[], body = ''): string =>
  `HTTP/1.1 ${status}${CRLF}${headers.map((h) => h + CRLF).join('')}${CRLF}${body}`;

function byUrl(recs: Rec[]): Rec[] {
  return [...recs].sort((a, b) => String(a.url).localeCompare(String(b.url)));
}

/** The same exchanges, with the same fields, at both ends. */
function bothSides(c: Rec[], s: Rec[], n: number, what: string): void {
  assert.equal(c.length, n, `${what}: client records ${JSON.stringify(c)}`);
  assert.equal(s.length, n, `${what}: server records ${JSON.stringify(s)}`);
  const fields = (r: Rec) => [r.method, r.url, r.status, r.req_bytes, r.resp_bytes, r.host, r.content_type];
  assert.deepEqual(byUrl(c).map(fields), byUrl(s).map(fields), `${what}: both ends agree`);
}

const pipelined = Array.from({ length: 8 }, (_, i) => i + 1);
/** Statuses whose responses have a body (not 204 or 205). */
const PIPE_STATUS = [0, 200, 201, 202, 203, 206, 207, 208, 299];
const pipeResps = pipelined.map((i) => resp(`${PIPE_STATUS[i]} S`, ['Content-Length: 5'], `body${i}`));

const chunkWrites = [
  resp('200 OK', ['Transfer-Encoding: chunked', 'Content-Type: text/plain']) + `5;ext=1${CRLF}hello${CRLF}1`,
  `0${CRLF}0123456789abcdef\r`,
  `\n0${CRLF}X-Trailer: t\r`,
  `\n${CRLF}`,
];

const interimHead = req('POST', '/continue', 'c', `Expect: 100-continue${CRLF}Content-Length: 5${CRLF}`);
const interimFinal = resp('103 Early Hints', ['Link: </s.css>']) + resp('200 OK', ['Content-Length: 2'], 'ok');

const bodiless: [string, string, string][] = [
  ['HEAD', '/h', resp('200 OK', ['Content-Length: 1000'])],
  ['GET', '/n', resp('204 No Content', [])],
  ['GET', '/m', resp('304 Not Modified', ['Content-Length: 100'])],
  ['GET', '/last', resp('200 OK', ['Content-Length: 2'], 'ok')],
];

const untilClose = [resp('200 OK', ['Content-Type: text/x'], 'until'), '-close body'];

const SCENARIOS: Scenario[] = [
  {
    name: '8 pipelined requests in one packet, 8 responses in one packet',
    client: {
      steps: [{ write: pipelined.map((i) => req('GET', `/p${i}`, 'pipe')).join('') }, { wait: 'body8' }],
    },
    server: { steps: [{ wait: req('GET', '/p8', 'pipe'), write: pipeResps.join('') }] },
    check(c, s) {
      bothSides(c, s, 8, 'pipelined');
      assert.deepEqual(
        byUrl(c).map((r) => [r.url, r.status, r.resp_bytes, r.req_bytes]),
        pipelined.map((i) => [`/p${i}`, PIPE_STATUS[i], pipeResps[i - 1]!.length, req('GET', `/p${i}`, 'pipe').length]),
      );
    },
  },
  {
    name: '100 Continue, then 103 and the final response in one packet',
    client: {
      steps: [{ write: interimHead }, { wait: `100 Continue${CRLF}${CRLF}`, write: 'hello' }, { wait: `${CRLF}ok` }],
    },
    server: {
      steps: [
        { wait: interimHead, write: resp('100 Continue', []) },
        { wait: 'hello', delayMs: 60, write: interimFinal },
      ],
    },
    check(c, s) {
      bothSides(c, s, 1, 'interim');
      for (const r of [...c, ...s]) {
        assert.equal(r.status, 200, 'the final response, not an interim one');
        assert.equal(r.req_bytes, interimHead.length + 5);
        assert.equal(r.resp_bytes, resp('100 Continue', []).length + interimFinal.length);
        assert.ok((r.latency_ms as number) >= 60, `latency to the final response: ${r.latency_ms}`);
      }
    },
  },
  {
    name: 'a chunked body cut anywhere, with an extension and trailers, then the next exchange',
    client: {
      steps: [
        { write: req('GET', '/chunked', 'k') },
        { wait: `X-Trailer: t${CRLF}${CRLF}`, write: req('GET', '/after', 'k') },
        { wait: 'after-ok' },
      ],
    },
    server: {
      steps: [
        { wait: req('GET', '/chunked', 'k'), write: chunkWrites[0] },
        ...chunkWrites.slice(1).map((w) => ({ delayMs: 10, write: w })),
        { wait: req('GET', '/after', 'k'), write: resp('200 OK', ['Content-Length: 8'], 'after-ok') },
      ],
    },
    check(c, s) {
      bothSides(c, s, 2, 'chunked');
      const [after, chunked] = byUrl(c);
      assert.deepEqual(
        [chunked!.url, chunked!.status, chunked!.content_type, chunked!.resp_bytes],
        ['/chunked', 200, 'text/plain', chunkWrites.join('').length],
      );
      assert.deepEqual([after!.url, after!.status], ['/after', 200]);
    },
  },
  {
    name: 'HEAD, 204 and 304 carry no body, whatever their Content-Length',
    client: {
      steps: bodiless.map(([m, t], i) => ({
        wait: i === 0 ? undefined : bodiless[i - 1]![2],
        write: req(m, t, 'b'),
      })),
      lingerMs: 300,
    },
    server: { steps: bodiless.map(([m, t, r]) => ({ wait: req(m, t, 'b'), write: r })) },
    check(c, s) {
      bothSides(c, s, 4, 'bodiless');
      const st = Object.fromEntries(c.map((r) => [r.url, [r.method, r.status, r.resp_bytes]]));
      assert.deepEqual(st, Object.fromEntries(bodiless.map(([m, t, r]) => [t, [m, Number(r.slice(9, 12)), r.length]])));
    },
  },
  {
    name: 'CONNECT: the exchange that opens the tunnel, nothing inside it',
    client: {
      steps: [
        { write: req('CONNECT', 'example.test:443', 'example.test:443') },
        { wait: `Established${CRLF}${CRLF}`, write: req('GET', '/inside', 'x') },
        { wait: 'inside-ok' },
      ],
    },
    server: {
      steps: [
        { wait: req('CONNECT', 'example.test:443', 'example.test:443'), write: resp('200 Connection Established', []) },
        { wait: req('GET', '/inside', 'x'), write: resp('200 OK', ['Content-Length: 9'], 'inside-ok') },
      ],
    },
    check(c, s) {
      bothSides(c, s, 1, 'CONNECT');
      assert.deepEqual([c[0]!.method, c[0]!.url, c[0]!.status], ['CONNECT', 'example.test:443', 200]);
    },
  },
  {
    name: '101 Switching Protocols: nothing after it is HTTP',
    client: {
      steps: [
        { write: req('GET', '/ws', 'w', `Upgrade: websocket${CRLF}Connection: Upgrade${CRLF}`) },
        { wait: `Connection: Upgrade${CRLF}${CRLF}`, write: req('GET', '/inside2', 'x') },
        { wait: 'in2' },
      ],
    },
    server: {
      steps: [
        {
          wait: `Connection: Upgrade${CRLF}${CRLF}`,
          write: resp('101 Switching Protocols', ['Upgrade: websocket', 'Connection: Upgrade']),
        },
        { wait: req('GET', '/inside2', 'x'), write: resp('200 OK', ['Content-Length: 3'], 'in2') },
      ],
    },
    check(c, s) {
      bothSides(c, s, 1, '101');
      assert.deepEqual([c[0]!.url, c[0]!.status], ['/ws', 101]);
    },
  },
  {
    name: 'a head cut between CR and LF; a body that ends when the server closes',
    client: {
      steps: [{ write: `GET /split HTTP/1.1${CRLF}Host: s\r` }, { delayMs: 20, write: `\n${CRLF}` }, { wait: 'body' }],
      lingerMs: 300,
    },
    server: {
      steps: [
        { wait: `Host: s${CRLF}${CRLF}`, write: untilClose[0] },
        { delayMs: 10, write: untilClose[1] },
      ],
      close: true,
    },
    check(c, s) {
      bothSides(c, s, 1, 'until close');
      for (const r of [...c, ...s]) {
        assert.deepEqual(
          [r.url, r.host, r.status, r.content_type, r.resp_bytes],
          ['/split', 's', 200, 'text/x', untilClose.join('').length],
        );
      }
    },
  },
];

describe('wirelens http: framing in the kernel', { skip }, () => {
  const servers: { srv: Spawned; port: number }[] = [];
  before(async () => {
    for (const sc of SCENARIOS)
      servers.push(await startFixtureServer(SCRIPT, ['server', '127.0.0.1', JSON.stringify(sc.server)]));
  });
  after(async () => {
    for (const s of servers) await stop(s.srv);
  });

  it("every scenario: exactly its exchanges, the same at both ends; `http -r` on tcpdump's file gives the same records", async () => {
    const ports = servers.map((s) => s.port);
    const wl = await startWirelens(['http', ...ports.flatMap((p) => ['--port', String(p)])]);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wl-http-scenarios-'));
    const file = path.join(dir, 'scenarios.pcap');
    let td: Spawned | undefined = await tcpdumpLo(file, ports.map((p) => `tcp port ${p}`).join(' or '));
    try {
      for (const [i, sc] of SCENARIOS.entries()) {
        const c = startIn(undefined, [
          process.execPath,
          SCRIPT,
          'client',
          '127.0.0.1',
          String(ports[i]),
          JSON.stringify(sc.client),
        ]);
        assert.equal(await c.exited, 0, `${sc.name}: ${c.stderr()}`);
      }
      await new Promise((r) => setTimeout(r, 200));
      await stop(td, 'SIGINT');
      td = undefined;
      const { records, stderr } = await wl.finish();
      assert.match(stderr, / 0 lost/);
      // The file's records: the same framing rules in user space.
      const off = await wirelensJson(['http', '-r', file]);
      assert.equal(off.code, 0, off.stderr);
      assertSame(records, off.records, ['latency_ms']);
      for (const [i, sc] of SCENARIOS.entries()) {
        const port = ports[i]!;
        const client = records.filter((r) => r.side === 'client' && r.dport === port);
        const server = records.filter((r) => r.side === 'server' && r.sport === port);
        try {
          sc.check(client, server);
        } catch (e) {
          throw new Error(`${sc.name}: ${(e as Error).message}`);
        }
      }
    } finally {
      if (td) await stop(td, 'SIGINT');
      await stop(wl.proc, 'SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a keep-alive connection made before wirelens started is followed from its next request', async () => {
    const { srv, port } = await startFixtureServer(SCRIPT, [
      'server',
      '127.0.0.1',
      JSON.stringify({
        steps: [
          { wait: req('GET', '/before', 'o'), write: resp('200 OK', ['Content-Length: 2'], 'b1') },
          { wait: req('GET', '/after', 'o'), write: resp('404 Nope', ['Content-Length: 2'], 'a2') },
        ],
      }),
    ]);
    // The client waits for a file to appear before its second request.
    const go = path.join(os.tmpdir(), `wl-test-go-${process.pid}`);
    fs.rmSync(go, { force: true });
    const client = start(process.execPath, [
      '-e',
      `const net = require('node:net'), fs = require('node:fs');
       const s = net.connect(${port}, '127.0.0.1', () => s.write(${JSON.stringify(req('GET', '/before', 'o'))}));
       let got = '';
       s.on('data', (d) => {
         got += d;
         if (got.endsWith('b1')) { const t = setInterval(() => { if (fs.existsSync(${JSON.stringify(go)})) { clearInterval(t); s.write(${JSON.stringify(req('GET', '/after', 'o'))}); } }, 20); }
         if (got.endsWith('a2')) { s.end(); process.exit(0); }
       });
       setTimeout(() => process.exit(1), 20000);`,
    ]);
    try {
      await new Promise((r) => setTimeout(r, 300)); // the first exchange is over before wirelens starts
      const wl = await startWirelens(['http', '--port', String(port)]);
      try {
        fs.writeFileSync(go, '');
        assert.equal(await client.exited, 0, client.stderr());
        const { records } = await wl.finish();
        assert.deepEqual(
          records.map((r) => [r.side, r.url, r.status]).sort(),
          [
            ['client', '/after', 404],
            ['server', '/after', 404],
          ],
          JSON.stringify(records),
        );
      } finally {
        await stop(wl.proc, 'SIGKILL');
      }
    } finally {
      fs.rmSync(go, { force: true });
      await stop(client);
      await stop(srv);
    }
  });
});

/** nginx's access log, one "METHOD URI STATUS" per line. */
function accessLog(ng: TestNginx): { method: string; uri: string; status: number }[] {
  return fs
    .readFileSync(path.join(ng.dir, 'access.log'), 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [method, uri, status] = l.split(' ');
      return { method: method!, uri: uri!, status: Number(status) };
    });
}

/** `curl -K` with these URLs on one keep-alive connection per curl, `procs` curls at once. */
async function curlAll(urls: string[], procs: number): Promise<void> {
  const runs: Promise<void>[] = [];
  for (let p = 0; p < procs; p++) {
    const mine = urls.filter((_, i) => i % procs === p);
    const cfg = path.join(os.tmpdir(), `wl-test-urls-${process.pid}-${p}`);
    fs.writeFileSync(cfg, mine.map((u) => `url = "${u}"\noutput = "/dev/null"\n`).join(''));
    const c = start('curl', ['-s', '-S', '--max-time', '120', '-K', cfg]);
    runs.push(
      c.exited.then((code) => {
        fs.rmSync(cfg, { force: true });
        assert.equal(code, 0, c.stderr());
      }),
    );
  }
  await Promise.all(runs);
}

describe('wirelens http: volume against nginx access log', { skip }, () => {
  let ng: TestNginx;
  before(async () => {
    ng = await startNginx(
      { 'api/users': '{"users":[7]}', 'static/a.css': 'body{}', 'index.html': 'hi' },
      { accessLog: true, logFormat: '$request_method $request_uri $status' },
    );
  });
  after(() => ng?.stop());

  it('20,000 keep-alive requests are 20,000 exchanges on each side, as in the access log', async () => {
    fs.writeFileSync(path.join(ng.dir, 'access.log'), '');
    const base = `http://127.0.0.1:${ng.port}`;
    const urls = Array.from({ length: 20000 }, (_, i) => `${base}/index.html?n=${i}`);
    const wl = start(process.execPath, [CLI, 'http', '--port', String(ng.port), '--json', '-v']);
    try {
      await waitFor(wl.stderr, /attached in/, 15000, 'wirelens to attach');
      await curlAll(urls, 4);
      await new Promise((r) => setTimeout(r, 1500));
      await stop(wl, 'SIGINT');
      const log = accessLog(ng);
      assert.equal(log.length, 20000, 'nginx logged every request');
      const counts = { client: 0, server: 0 };
      const seen = { client: new Set<string>(), server: new Set<string>() };
      for (const line of wl.stdout().split('\n')) {
        if (!line) continue;
        const r = JSON.parse(line) as Rec;
        const side = r.side as 'client' | 'server';
        counts[side]++;
        seen[side].add(r.url as string);
        assert.equal(r.status, 200);
      }
      assert.match(wl.stderr(), /stopped \([^)]*\): 40000 records, 0 lost/);
      assert.deepEqual(counts, { client: 20000, server: 20000 });
      const logged = new Set(log.map((l) => l.uri));
      for (const side of ['client', 'server'] as const)
        assert.deepEqual([...seen[side]].sort(), [...logged].sort(), `${side}: the same 20,000 URLs`);
    } finally {
      await stop(wl, 'SIGKILL');
    }
  });

  it('--stats-only: counts per endpoint equal the access log; histogram buckets add up to the count', async () => {
    fs.writeFileSync(path.join(ng.dir, 'access.log'), '');
    const base = `http://127.0.0.1:${ng.port}`;
    const urls: string[] = [];
    for (let i = 0; i < 3000; i++) {
      urls.push(`${base}/api/users?i=${i}`);
      if (i % 2 === 0) urls.push(`${base}/static/a.css`);
      if (i % 3 === 0) urls.push(`${base}/nope/${i}`);
      if (i % 5 === 0) urls.push(`${base}/items/${i}/detail?x=1`);
    }
    const wl = start(process.execPath, [CLI, 'http', '--port', String(ng.port), '--stats-only', '--json', '-v']);
    try {
      await waitFor(wl.stderr, /attached in/, 15000, 'wirelens to attach');
      await curlAll(urls, 3);
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(await stop(wl, 'SIGINT'), 0, wl.stderr());
      const tables = wl
        .stdout()
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { endpoints: Rec[] });
      assert.equal(tables.length, 1, 'one table, at exit (no --stats interval)');
      const want = new Map<string, { n: number; cls: Record<string, number> }>();
      for (const l of accessLog(ng)) {
        const key = `${l.method} ${routeOf(l.uri)}`;
        const w = want.get(key) ?? { n: 0, cls: {} };
        w.n++;
        const cls = `${Math.floor(l.status / 100)}xx`;
        w.cls[cls] = (w.cls[cls] ?? 0) + 1;
        want.set(key, w);
      }
      assert.equal(
        [...want.values()].reduce((a, w) => a + w.n, 0),
        urls.length,
      );
      for (const side of ['client', 'server']) {
        const rows = tables[0]!.endpoints.filter((e) => e.side === side);
        const got = new Map(rows.map((e) => [e.endpoint as string, { n: e.requests as number, cls: e.status }]));
        assert.deepEqual(got, want, `${side}: the table is the access log's`);
        for (const e of rows) {
          const buckets = e.latency_log2_us as number[];
          assert.equal(
            buckets.reduce((a, b) => a + b, 0),
            e.requests,
            `${side} ${e.endpoint}: buckets sum to the count`,
          );
        }
      }
      assert.deepEqual([...want.keys()].sort(), [
        'GET /api/users',
        'GET /items/{n}/detail',
        'GET /nope/{n}',
        'GET /static/a.css',
      ]);
    } finally {
      await stop(wl, 'SIGKILL');
    }
  });

  it("--stats-only attaches no process hooks; with --comm it does, and counts only that process's exchanges", async () => {
    const base = `http://127.0.0.1:${ng.port}`;
    const bare = start(process.execPath, [CLI, 'http', '--port', String(ng.port), '--stats-only', '-v']);
    try {
      await waitFor(bare.stderr, /attached in/, 15000, 'wirelens to attach');
      assert.doesNotMatch(bare.stderr(), /socket owners/, 'no owner hooks without --pid/--comm');
    } finally {
      await stop(bare, 'SIGINT');
    }
    const wl = start(process.execPath, [
      CLI,
      'http',
      '--port',
      String(ng.port),
      '--stats-only',
      '--comm',
      'curl',
      '--json',
      '-v',
    ]);
    try {
      await waitFor(wl.stderr, /attached in/, 15000, 'wirelens to attach');
      assert.match(wl.stderr(), /socket owners at read\/write/, 'owner hooks with --comm');
      const urls = Array.from({ length: 300 }, (_, i) => `${base}/by-curl/${i}`);
      await curlAll(urls, 2);
      // Another process's requests on the same server: node's, not counted.
      for (let i = 0; i < 200; i++) {
        const r = await fetch(`${base}/by-node/${i}`);
        await r.arrayBuffer();
      }
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(await stop(wl, 'SIGINT'), 0, wl.stderr());
      const table = JSON.parse(wl.stdout().trim().split('\n').at(-1)!) as { endpoints: Rec[] };
      const rows = table.endpoints.filter((e) => (e.requests as number) > 0);
      assert.deepEqual(
        rows.map((e) => [e.side, e.endpoint, e.requests]),
        [['client', 'GET /by-curl/{n}', 300]],
        "curl's 300 requests, client side only (nginx is not curl, node is not curl)",
      );
    } finally {
      await stop(wl, 'SIGKILL');
    }
  });
});
