/**
 * `wirelens http -r FILE` equals live `wirelens http`: while nginx and curl
 * (keep-alive: several URLs on one connection; HEAD; IPv6; a pipelined
 * request pair written at once on a raw socket) and a Node server (every
 * method, chunked responses, Expect: 100-continue, a slow endpoint) talk on
 * loopback, the live command reports the exchanges and tcpdump writes the
 * same packets to a file; the file's records must equal the live ones on
 * every field but the process, the namespace and the time (latency within
 * 1 ms), with and without a filter, from a file and from standard input.
 * Then `wirelens capture -w x.pcapng` (the socket hook) read back with
 * `http -r`: the same records, with the processes live named.
 */
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { CLI, FIXTURES } from '../helpers/paths';
import { nginxWorkerPids, startNginx, TestNginx } from '../helpers/nginx';
import { startFixtureServer } from '../helpers/fixtures';
import { run, Spawned, start, stop, waitFor } from '../helpers/proc';
import { kernelSkipReason } from '../helpers/skip';
import { Rec, startWirelens, WirelensRun } from '../helpers/wirelens';
import { assertSame, tcpdumpLo, wirelensJson } from '../helpers/offline';

const have = (t: string): boolean => spawnSync('sh', ['-c', `command -v ${t}`]).status === 0;
const missing = ['tcpdump', 'curl', 'nginx'].filter((t) => !have(t));
const skip = kernelSkipReason() ?? (missing.length > 0 ? `missing ${missing.join(', ')}` : undefined);

async function curl(args: string[]): Promise<number> {
  const c = start('curl', ['-s', '-S', '--max-time', '10', ...args]);
  const code = await c.exited;
  assert.equal(code, 0, `curl ${args.join(' ')}: ${c.stderr()}`);
  return c.child.pid!;
}

/** Writes `data` at once on a new connection and reads until the server closes. */
function raw(port: number, data: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const s = net.connect(port, '127.0.0.1', () => s.write(Buffer.from(data, 'latin1')));
    s.on('data', (d) => (got += d.toString('latin1')));
    s.on('error', reject);
    s.on('close', () => resolve(got));
    s.setTimeout(10_000, () => s.destroy(new Error('no close in 10 s')));
  });
}

/** The traffic every test here drives: returns the exchanges it makes (each seen from both ends). */
async function drive(ng: TestNginx, nodePort: number): Promise<number> {
  const b = `http://127.0.0.1:${ng.port}`;
  // Keep-alive: five URLs on one connection.
  const urls = ['/index.html', '/api/users?id=7', '/nope', '/static/a.css', '/index.html?again=1'];
  await curl(urls.flatMap((u) => ['-o', '/dev/null', b + u]));
  await curl(['-o', '/dev/null', '-I', `${b}/static/a.css`]);
  await curl(['-o', '/dev/null', '-g', `http://[::1]:${ng.port}/index.html`]);
  await curl(['-o', '/dev/null', '--data-binary', 'x'.repeat(3000), `${b}/index.html`]);
  // A pipelined pair: both requests in one write.
  const got = await raw(
    ng.port,
    'GET /index.html?pipe=1 HTTP/1.1\r\nHost: pipe.test\r\n\r\n' +
      'GET /api/users?pipe=2 HTTP/1.1\r\nHost: pipe.test\r\nConnection: close\r\n\r\n',
  );
  assert.equal(got.match(/HTTP\/1\.1 200/g)?.length, 2, got);
  const n = `http://127.0.0.1:${nodePort}`;
  for (const m of ['GET', 'POST', 'PUT', 'DELETE']) await curl(['-o', '/dev/null', '-X', m, `${n}/m/${m}`]);
  await curl(['-o', '/dev/null', `${n}/chunked`, '-o', '/dev/null', `${n}/sleep?ms=50`]);
  await curl(['-o', '/dev/null', '-H', 'Expect: 100-continue', '--data-binary', 'y'.repeat(5000), `${n}/continue`]);
  return 5 + 1 + 1 + 1 + 2 + 4 + 2 + 1;
}

describe('wirelens http -r: live equals offline', { skip }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wl-http-offline-'));
  let ng: TestNginx;
  let node: { srv: Spawned; port: number };
  before(async () => {
    ng = await startNginx({ 'api/users': '{"users":[7]}', 'static/a.css': 'body{}', 'index.html': 'hi' });
    node = await startFixtureServer(path.join(FIXTURES, 'http-server.js'), ['127.0.0.1', '0']);
  });
  after(async () => {
    ng?.stop();
    if (node) await stop(node.srv);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("nginx, a Node server and curl (keep-alive, pipelining, HEAD, IPv6, chunked, 100-continue): `http -r` on tcpdump's file gives the live records", async () => {
    let wl: WirelensRun | undefined;
    let td: Spawned | undefined;
    const file = path.join(dir, 'http.pcap');
    try {
      wl = await startWirelens(['http', '--port', String(ng.port), '--port', String(node.port)]);
      td = await tcpdumpLo(file, `tcp port ${ng.port} or tcp port ${node.port}`);
      const exchanges = await drive(ng, node.port);
      await new Promise((r) => setTimeout(r, 200));
      await stop(td, 'SIGINT');
      const live = await wl.finish();
      assert.equal(live.records.length, 2 * exchanges, `each exchange from both ends: ${live.stderr}`);
      const off = await wirelensJson(['http', '-r', file]);
      assert.equal(off.code, 0, off.stderr);
      assertSame(live.records, off.records, ['latency_ms']);
      assert.match(off.stderr, /no process information in .*http\.pcap \(not written by wirelens capture\)/);
      assert.equal(off.stderr.match(/no process information/g)?.length, 1, 'said once');
      assert.ok(
        off.stderr.includes(`http: ${2 * exchanges} exchanges, 0 unanswered, 0 malformed heads, 0 stream gaps`),
        off.stderr,
      );
      const pipe = off.records.filter((r) => r.host === 'pipe.test');
      assert.equal(pipe.length, 4, 'the pipelined pair from both ends');
      assert.equal(new Set(pipe.map((r) => r.sport)).size, 2, 'one connection: one port per end');

      // The same file from standard input.
      const stdin = await run('sh', ['-c', `${process.execPath} ${CLI} http -r - --json < ${file}`], 60_000);
      assert.equal(stdin.code, 0, stdin.stderr);
      assert.equal(stdin.stdout.trim().split('\n').length, 2 * exchanges, stdin.stderr);

      // Filters judge the request head, as the kernel does.
      const gets = await wirelensJson(['http', '-r', file, '--method', 'GET', '--url-prefix', '/index']);
      assert.equal(gets.code, 0, gets.stderr);
      const want = live.records.filter((r) => r.method === 'GET' && String(r.url).startsWith('/index'));
      assert.ok(want.length >= 8, JSON.stringify(want));
      assertSame(want, gets.records, ['latency_ms']);

      // Text lines and the summary table.
      const text = await run(process.execPath, [CLI, 'http', '-r', file], 60_000);
      assert.equal(text.code, 0, text.stderr);
      assert.equal(text.stdout.trim().split('\n').length, 1 + 2 * exchanges, 'a header and a line per record');
    } finally {
      if (td) await stop(td, 'SIGINT');
      await wl?.finish();
    }
  });

  it('`capture -w x.pcapng` then `http -r x.pcapng`: the live records, with their processes', async () => {
    let wl: WirelensRun | undefined;
    let cap: Spawned | undefined;
    const file = path.join(dir, 'sockets.pcapng');
    try {
      wl = await startWirelens(['http', '--port', String(ng.port), '--port', String(node.port)]);
      cap = start(process.execPath, [CLI, 'capture', '-w', file, `tcp port ${ng.port} or tcp port ${node.port}`]);
      await waitFor(cap.stderr, /listening on/, 15_000, 'capture to listen');
      const exchanges = await drive(ng, node.port);
      await new Promise((r) => setTimeout(r, 300));
      await stop(cap, 'SIGINT');
      const live = await wl.finish();
      assert.equal(live.records.length, 2 * exchanges, live.stderr);
      const off = await wirelensJson(['http', '-r', file]);
      assert.equal(off.code, 0, off.stderr);
      assert.doesNotMatch(off.stderr, /no process information/);
      assertSame(live.records, off.records, ['latency_ms']);
      const workers = await nginxWorkerPids(ng.dir);
      for (const r of off.records) {
        if (r.side === 'client') assert.ok(r.comm === 'curl' || r.comm === 'node', JSON.stringify(r));
        else assert.ok(workers.includes(r.pid as number) || r.pid === node.srv.child.pid, JSON.stringify(r));
      }
      const who = (rs: Rec[]) => rs.map((r) => `${r.side}/${r.method}/${r.url}/${r.pid}/${r.comm}`).sort();
      assert.deepEqual(who(off.records), who(live.records), 'the processes live named');
    } finally {
      if (cap) await stop(cap, 'SIGINT');
      await wl?.finish();
    }
  });
});
