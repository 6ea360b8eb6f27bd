/**
 * `wirelens http` against real clients and servers: nginx (config written
 * here) and a Node server, driven by curl; exact methods, URLs, statuses,
 * processes on both sides, latency, bytes; kernel-side --url-prefix with its
 * counters; namespaces; redaction; garbage on the wire.
 */
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { FIXTURES } from '../helpers/paths';
import { nginxWorkerPids, startNginx, TestNginx } from '../helpers/nginx';
import { createNetnsPair, NetnsPair } from '../helpers/netns';
import { Spawned, stop } from '../helpers/proc';
import { startFixtureServer, startIn } from '../helpers/fixtures';
import { kernelSkipReason } from '../helpers/skip';
import { pick, Rec, startWirelens } from '../helpers/wirelens';

const skip = kernelSkipReason();
const SERVER = path.join(FIXTURES, 'http-server.js');

async function curl(args: string[], ns?: string): Promise<number> {
  const c = startIn(ns, ['curl', '-s', '-S', '--max-time', '10', ...args]);
  const code = await c.exited;
  assert.equal(code, 0, `curl ${args.join(' ')}: ${c.stderr()}`);
  return c.child.pid!;
}

function nodeServer(host: string, ns?: string): Promise<{ srv: Spawned; port: number }> {
  return startFixtureServer(SERVER, [host, '0'], ns);
}

/** Exactly one client record from `pid` and one server record from one of `serverPids` for this request. */
function pair(recs: Rec[], where: Rec, clientPid: number, serverPids: number[]): { c: Rec; s: Rec } {
  const c = pick(recs, { ...where, side: 'client', pid: clientPid });
  const s = pick(recs, { ...where, side: 'server' }).filter((r) => serverPids.includes(r.pid as number));
  assert.equal(c.length, 1, `one client record for ${JSON.stringify(where)}: ${JSON.stringify(recs)}`);
  assert.equal(s.length, 1, `one server record for ${JSON.stringify(where)}`);
  assert.equal(c[0]!.comm, 'curl');
  for (const r of [c[0]!, s[0]!]) assert.ok((r.latency_ms as number) > 0, 'latency > 0');
  // Timestamps are taken at syscall exit on different CPUs: on loopback the
  // client's write may return after the server's read did. Allow 2 ms.
  assert.ok(
    (c[0]!.latency_ms as number) + 2 >= (s[0]!.latency_ms as number),
    'the client waits about as long as the server works, or longer',
  );
  return { c: c[0]!, s: s[0]! };
}

describe('wirelens http with nginx and curl', { skip }, () => {
  let ng: TestNginx;
  let workers: number[];
  const big = path.join(os.tmpdir(), `wl-test-upload-${process.pid}`);
  before(async () => {
    ng = await startNginx({ 'api/users': '{"users":[7]}', 'static/a.css': 'body{}', 'index.html': 'hi' });
    workers = await nginxWorkerPids(ng.dir);
    fs.writeFileSync(big, Buffer.alloc(1024 * 1024, 0x78));
  });
  after(() => {
    ng?.stop();
    fs.rmSync(big, { force: true });
  });

  it('reports each exchange from curl and from nginx, with methods, URLs, statuses and bytes', async () => {
    const wl = await startWirelens(['http', '--port', String(ng.port)]);
    try {
      const base = `http://127.0.0.1:${ng.port}`;
      const p1 = await curl(['-o', '/dev/null', `${base}/api/users?id=7`]);
      const p2 = await curl(['-o', '/dev/null', `${base}/static/a.css`]);
      const p3 = await curl(['-o', '/dev/null', `${base}/nope`]);
      // nginx answers /upload at once; whether curl still sends the body is a race (1 MB counts are checked against the Node server).
      const p4 = await curl(['-o', '/dev/null', '-X', 'POST', '--data-binary', `@${big}`, `${base}/upload`]);
      const p5 = await curl(['-o', '/dev/null', '-I', `${base}/index.html`]);
      const p6 = await curl(['-o', '/dev/null', '-g', `http://[::1]:${ng.port}/index.html`]);
      const { records } = await wl.finish();

      const users = pair(records, { method: 'GET', url: '/api/users?id=7' }, p1, workers);
      assert.equal(users.c.status, 200);
      assert.equal(users.s.status, 200);
      assert.equal(users.c.host, `127.0.0.1:${ng.port}`);
      assert.equal(users.c.version, '1.1');
      assert.equal(users.c.resp_bytes, users.s.resp_bytes, 'both ends count the same response bytes');
      assert.equal(users.c.req_bytes, users.s.req_bytes);
      assert.ok((users.c.resp_bytes as number) > 13, 'head + 13-byte body');

      const css = pair(records, { method: 'GET', url: '/static/a.css' }, p2, workers);
      assert.equal(css.c.content_type, 'text/css');
      assert.equal(pair(records, { url: '/nope' }, p3, workers).c.status, 404);

      const up = pair(records, { method: 'POST', url: '/upload' }, p4, workers);
      assert.equal(up.c.status, 201);
      assert.equal(up.s.status, 201);

      const head = pair(records, { method: 'HEAD', url: '/index.html' }, p5, workers);
      assert.equal(head.c.status, 200);
      const v6 = pick(records, { pid: p6, side: 'client' });
      assert.equal(v6.length, 1);
      assert.equal(v6[0]!.saddr, '::1');
      assert.equal(records.length, 12, 'six exchanges, each seen by curl and by nginx');
    } finally {
      await stop(wl.proc, 'SIGKILL');
    }
  });

  it('50 keep-alive requests on one connection are 50 exchanges on each side', async () => {
    const wl = await startWirelens(['http', '--port', String(ng.port)]);
    try {
      const urls = Array.from({ length: 50 }, (_, i) => `http://127.0.0.1:${ng.port}/index.html?n=${i}`);
      const pid = await curl(['-o', '/dev/null', ...urls.flatMap((u) => ['-o', '/dev/null', u]).slice(2)]);
      const { records } = await wl.finish();
      const client = pick(records, { side: 'client', pid });
      const server = pick(records, { side: 'server' });
      assert.equal(client.length, 50);
      assert.equal(server.length, 50);
      assert.deepEqual(
        client.map((r) => r.url),
        urls.map((u) => u.slice(u.indexOf('/index'))),
      );
      assert.equal(new Set(client.map((r) => r.sport)).size, 1, 'one connection');
    } finally {
      await stop(wl.proc, 'SIGKILL');
    }
  });

  it('--url-prefix /api/ keeps only /api/ exchanges; the rest is dropped in the kernel', async () => {
    const wl = await startWirelens(['http', '--port', String(ng.port), '--url-prefix', '/api/']);
    try {
      for (const u of ['/api/users', '/static/a.css', '/index.html', '/api/users?x=1'])
        await curl(['-o', '/dev/null', `http://127.0.0.1:${ng.port}${u}`]);
      const { records, stderr } = await wl.finish();
      assert.deepEqual(records.map((r) => r.url).sort(), [
        '/api/users',
        '/api/users',
        '/api/users?x=1',
        '/api/users?x=1',
      ]);
      const filtered = Number(/(\d+) filtered in kernel/.exec(stderr)?.[1]);
      assert.equal(filtered, 4, `2 requests x 2 ends dropped in the kernel: ${stderr}`);
    } finally {
      await stop(wl.proc, 'SIGKILL');
    }
  });

  it('--url-contains, --host and --method filter in the kernel', async () => {
    const cases: [string[], string[]][] = [
      [
        ['--url-contains', 'users'],
        ['/api/users', '/api/users?x=1'],
      ],
      [['--host', 'Example.TEST'], ['/index.html']],
      [['--method', 'HEAD'], ['/static/a.css']],
    ];
    for (const [flags, want] of cases) {
      const wl = await startWirelens(['http', '--port', String(ng.port), ...flags]);
      try {
        const b = `http://127.0.0.1:${ng.port}`;
        await curl(['-o', '/dev/null', `${b}/api/users`]);
        await curl(['-o', '/dev/null', `${b}/api/users?x=1`]);
        await curl(['-o', '/dev/null', '-H', 'Host: example.test:8080', `${b}/index.html`]);
        await curl(['-o', '/dev/null', '-I', `${b}/static/a.css`]);
        const { records, stderr } = await wl.finish();
        const urls = [...new Set(records.map((r) => r.url as string))].sort();
        assert.deepEqual(urls, want, `${flags.join(' ')}: ${stderr}`);
        assert.equal(records.length, want.length * 2);
        const filtered = Number(/(\d+) filtered in kernel/.exec(stderr)?.[1]);
        assert.equal(filtered, (4 - want.length) * 2, `${flags.join(' ')}: the others were dropped in the kernel`);
      } finally {
        await stop(wl.proc, 'SIGKILL');
      }
    }
  });

  it('redacts credentials unless --no-redact', async () => {
    const url = `http://127.0.0.1:${ng.port}/index.html?token=tok456&q=1`;
    for (const redact of [true, false]) {
      const wl = await startWirelens([
        'http',
        '--port',
        String(ng.port),
        '--headers',
        ...(redact ? [] : ['--no-redact']),
      ]);
      try {
        await curl(['-o', '/dev/null', '-H', 'Authorization: Bearer secret123', '-H', 'Cookie: sid=cookie789', url]);
        const { records } = await wl.finish();
        const text = JSON.stringify(records);
        assert.equal(records.length, 2);
        if (redact) {
          for (const secret of ['secret123', 'cookie789', 'tok456'])
            assert.ok(!text.includes(secret), `${secret} must not appear`);
          assert.match(text, /\[REDACTED\]/);
          assert.match(text, /q=1/);
        } else {
          for (const secret of ['secret123', 'cookie789', 'tok456'])
            assert.ok(text.includes(secret), `${secret} shown with --no-redact`);
        }
      } finally {
        await stop(wl.proc, 'SIGKILL');
      }
    }
  });
});

describe('wirelens http with a Node server', { skip }, () => {
  it('every method, latency of a slow endpoint, chunked responses, 100-continue', async () => {
    const { srv, port } = await nodeServer('127.0.0.1');
    const wl = await startWirelens(['http', '--port', String(port)]);
    try {
      const base = `http://127.0.0.1:${port}`;
      const pids: Record<string, number> = {};
      for (const m of ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'])
        pids[m] = await curl(['-o', '/dev/null', '-X', m, `${base}/m/${m}`]);
      const slow = await curl(['-o', '/dev/null', `${base}/sleep?ms=200`]);
      const chunked = await curl(['-o', '/dev/null', `${base}/chunked`]);
      const cont = await curl([
        '-o',
        '/dev/null',
        '-H',
        'Expect: 100-continue',
        '--data-binary',
        'x'.repeat(5000),
        `${base}/continue`,
      ]);
      const mb = Buffer.alloc(1024 * 1024, 0x78);
      const bigFile = path.join(os.tmpdir(), `wl-test-post-${process.pid}`);
      fs.writeFileSync(bigFile, mb);
      const post = await curl(['-o', '/dev/null', '--data-binary', `@${bigFile}`, `${base}/upload`]);
      fs.rmSync(bigFile, { force: true });
      const { records } = await wl.finish();
      for (const [m, pid] of Object.entries(pids)) pair(records, { method: m, url: `/m/${m}` }, pid, [srv.child.pid!]);
      const s = pair(records, { url: '/sleep?ms=200' }, slow, [srv.child.pid!]);
      assert.ok((s.s.latency_ms as number) >= 200, `server latency ${s.s.latency_ms} >= 200 ms`);
      assert.ok((s.c.latency_ms as number) >= 200, `client latency ${s.c.latency_ms} >= 200 ms`);
      assert.ok((s.c.latency_ms as number) < 2000);
      const ch = pair(records, { url: '/chunked' }, chunked, [srv.child.pid!]);
      assert.equal(ch.c.status, 200);
      assert.equal(ch.c.content_type, 'text/plain');
      assert.ok((ch.c.latency_ms as number) < 40, 'latency ends at the first byte, not the last chunk');
      const c = pair(records, { url: '/continue' }, cont, [srv.child.pid!]);
      assert.equal(c.c.status, 200, 'the final response, not the 100 Continue');
      assert.ok((c.c.req_bytes as number) >= 5000);
      const up = pair(records, { method: 'POST', url: '/upload' }, post, [srv.child.pid!]);
      for (const r of [up.c, up.s]) {
        assert.ok(
          (r.req_bytes as number) > 1024 * 1024 && (r.req_bytes as number) < 1024 * 1024 + 1024,
          `1 MB body + head: ${r.req_bytes}`,
        );
      }
      assert.equal(up.c.req_bytes, up.s.req_bytes, 'both ends count the same request bytes');
      assert.equal(records.length, 20);
    } finally {
      await stop(wl.proc, 'SIGKILL');
      await stop(srv);
    }
  });

  it('a request written in pieces and a response written and read 3 bytes at a time', async () => {
    const { srv, port } = await nodeServer('127.0.0.1');
    const wl = await startWirelens(['http', '--port', String(port)]);
    try {
      const piecewise = startIn(undefined, [
        process.execPath,
        path.join(FIXTURES, 'http-pieces-client.js'),
        '127.0.0.1',
        String(port),
        '/trickle?by=node',
        'pieces.test',
      ]);
      assert.equal(await piecewise.exited, 0, piecewise.stderr());
      assert.equal(piecewise.stdout().trim(), 'HTTP/1.1 200 OK');
      const viaCurl = await curl([
        '-o',
        '/dev/null',
        '-H',
        'Host: curl.test',
        `http://127.0.0.1:${port}/trickle?by=curl`,
      ]);
      const { records } = await wl.finish();
      const resp = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello';
      const byNode = pick(records, { url: '/trickle?by=node' });
      assert.deepEqual(
        byNode.map((r) => [r.side, r.pid]).sort(),
        [
          ['client', piecewise.child.pid],
          ['server', srv.child.pid],
        ].sort(),
        JSON.stringify(records),
      );
      for (const r of byNode) {
        assert.equal(r.host, 'pieces.test', 'the Host header came in a later piece');
        assert.equal(r.status, 200);
        assert.equal(r.content_type, 'text/plain');
        assert.equal(r.resp_bytes, resp.length);
        assert.equal(
          r.req_bytes,
          'GET /trickle?by=node HTTP/1.1\r\nHost: pieces.test\r\nX-Piece: 1\r\nConnection: close\r\n\r\n'.length,
        );
      }
      const c = pair(records, { url: '/trickle?by=curl' }, viaCurl, [srv.child.pid!]);
      for (const r of [c.c, c.s]) {
        assert.equal(r.status, 200);
        assert.equal(r.content_type, 'text/plain');
        assert.equal(r.resp_bytes, resp.length);
        assert.equal(r.host, 'curl.test');
      }
      assert.equal(records.length, 4);
    } finally {
      await stop(wl.proc, 'SIGKILL');
      await stop(srv);
    }
  });

  it('survives garbage, a 100 KB header and a connection closed mid-request', async () => {
    const { srv, port } = await nodeServer('127.0.0.1');
    const wl = await startWirelens(['http', '--port', String(port)]);
    try {
      const send = (data: Buffer | string) =>
        new Promise<void>((resolve) => {
          const s = net.connect(port, '127.0.0.1', () => s.end(data));
          s.on('error', () => resolve());
          s.on('close', () => resolve());
          s.resume();
        });
      await send(Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)));
      await send(`GET /big HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(100 * 1024)}\r\n\r\n`);
      await send('POST /cut HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nonly a little');
      const pid = await curl(['-o', '/dev/null', `http://127.0.0.1:${port}/after`]);
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(wl.proc.child.exitCode, null, 'still running');
      const { records, code } = await wl.finish();
      assert.equal(code, 0);
      pair(records, { url: '/after' }, pid, [srv.child.pid!]);
      const cut = pick(records, { url: '/cut', side: 'server' });
      assert.equal(cut.length, 1, 'the cut request is reported');
      assert.ok(cut[0]!.status === null || cut[0]!.status === 400, `no response, or Node's 400: ${cut[0]!.status}`);
      assert.equal(
        cut[0]!.req_bytes,
        'POST /cut HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nonly a little'.length,
      );
    } finally {
      await stop(wl.proc, 'SIGKILL');
      await stop(srv);
    }
  });
});

describe('wirelens http across namespaces', { skip }, () => {
  let pairNs: NetnsPair;
  before(() => {
    pairNs = createNetnsPair('h');
  });
  after(() => pairNs?.remove());

  it('sees the client in one namespace and the server in another', async () => {
    const { srv, port } = await nodeServer(pairNs.addrA, pairNs.a);
    const wl = await startWirelens(['http', '--port', String(port)]);
    try {
      const pid = await curl(['-o', '/dev/null', `http://${pairNs.addrA}:${port}/ns`], pairNs.b);
      const { records } = await wl.finish();
      const { c, s } = pair(records, { url: '/ns' }, pid, [srv.child.pid!]);
      assert.equal(c.netns, pairNs.inodeB);
      assert.equal(s.netns, pairNs.inodeA);
      assert.equal(c.saddr, pairNs.addrB);
      assert.equal(s.saddr, pairNs.addrA);
    } finally {
      await stop(wl.proc, 'SIGKILL');
      await stop(srv);
    }
  });
});
