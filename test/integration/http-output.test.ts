/**
 * What `wirelens http` prints, with attacker-chosen bytes on the wire (a raw
 * socket to a raw server, both on loopback): no secret in any output
 * (record lines, --json, the --stats table, the exit summary), bytes decoded
 * as UTF-8 where valid and escaped where not, backslashes shown once,
 * truncated header lists marked, lines in time order with the peer.
 */
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as net from 'node:net';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startNginx, TestNginx } from '../helpers/nginx';
import { startFixtureServer } from '../helpers/fixtures';
import { CLI, FIXTURES } from '../helpers/paths';
import { Spawned, start, stop, waitFor } from '../helpers/proc';
import { kernelSkipReason } from '../helpers/skip';

const skip = kernelSkipReason();

/** A server that answers every request head with a 200 carrying a Set-Cookie secret; prints "listening PORT". */
const RAW_SERVER = `
const net = require('node:net');
const srv = net.createServer((s) => {
  let buf = Buffer.alloc(0);
  s.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    for (let i = buf.indexOf('\\r\\n\\r\\n'); i >= 0; i = buf.indexOf('\\r\\n\\r\\n')) {
      buf = buf.subarray(i + 4);
      s.write('HTTP/1.1 200 OK\\r\\nSet-Cookie: sess=setcookie55\\r\\nContent-Length: 2\\r\\n\\r\\nok');
    }
  });
  s.on('error', () => {});
});
srv.listen(0, '127.0.0.1', () => process.stdout.write('listening ' + srv.address().port + '\\n'));
process.on('SIGTERM', () => process.exit(0));
`;

/** Sends raw request bytes on one connection and waits for as many responses. */
function exchange(port: number, requests: Buffer[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let got = '';
    const t = setTimeout(() => {
      s.destroy();
      reject(new Error(`no answer from the raw server: ${got}`));
    }, 5000);
    s.on('connect', async () => {
      for (const r of requests) {
        s.write(r);
        await new Promise((w) => setTimeout(w, 20));
      }
    });
    s.on('data', (d) => {
      got += d.toString('latin1');
      if (got.split('HTTP/1.1 200').length - 1 >= requests.length) {
        clearTimeout(t);
        s.end();
        resolve();
      }
    });
    s.on('error', reject);
  });
}

/** Runs `wirelens http ARGS`, makes the traffic, waits `holdMs` (for --stats and the reorder window), stops it. */
async function runHttp(
  args: string[],
  traffic: () => Promise<void>,
  holdMs = 1700,
): Promise<{ stdout: string; stderr: string; code: number | null }> {
  const wl = start(process.execPath, [CLI, 'http', ...args, '-v']);
  try {
    await waitFor(wl.stderr, /attached in/, 15000, 'wirelens to attach');
    await traffic();
    await new Promise((r) => setTimeout(r, holdMs));
    const code = await stop(wl, 'SIGINT');
    return { stdout: wl.stdout(), stderr: wl.stderr(), code };
  } finally {
    await stop(wl, 'SIGKILL');
  }
}

const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1');

describe('wirelens http output', { skip }, () => {
  let srv: Spawned;
  let port: number;
  before(async () => {
    srv = start(process.execPath, ['-e', RAW_SERVER]);
    port = Number((await waitFor(srv.stdout, /listening (\d+)/, 10000, 'the raw server'))[1]);
  });
  after(async () => {
    if (srv) await stop(srv);
  });

  it('prints no secret anywhere: record lines, --json, the --stats table, the exit summary', async () => {
    const secrets = ['hunter2', 'pw123', 'tok456', 'authsecret789', 'cookiesecret42', 'setcookie55'];
    const traffic = () =>
      exchange(port, [
        latin1(`GET http://bob:hunter2@127.0.0.1:${port}/ HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`),
        latin1(
          `GET /login?user=bob&password=pw123&token=tok456 HTTP/1.1\r\nHost: x\r\n` +
            `Authorization: Basic authsecret789\r\nCookie: sid=cookiesecret42\r\n\r\n`,
        ),
      ]);
    for (const mode of [
      ['--stats', '1', '--headers'],
      ['--json', '--stats', '1', '--headers'],
      ['--stats', '1'],
    ]) {
      const { stdout, stderr, code } = await runHttp(['--port', String(port), ...mode], traffic);
      assert.equal(code, 0, stderr);
      const all = stdout + stderr;
      for (const secret of secrets) assert.ok(!all.includes(secret), `${mode.join(' ')}: ${secret} printed:\n${all}`);
      // The table and the summary did show these endpoints (redacted).
      const table = stderr.split('\n').filter((l) => l.includes('[REDACTED]@127.0.0.1'));
      assert.ok(table.length >= 2, `${mode.join(' ')}: both ends in the table:\n${stderr}`);
      assert.match(all, /password=\[REDACTED\]/, 'the query is shown redacted');
    }
  });

  it('decodes UTF-8, escapes controls and invalid bytes (text and JSON), shows backslashes once', async () => {
    const reqs = [
      latin1(
        'GET /caf\xc3\xa9/\xc2\x9b/\xff\xfe/\xe0\x80 HTTP/1.1\r\nHost: x\r\nX-Name: caf\xc3\xa9 \xc2\x9b\x1b[31m \xc3(\r\n\r\n',
      ),
      latin1('GET /a\\b HTTP/1.1\r\nHost: x\r\n\r\n'),
    ];
    const json = await runHttp(['--port', String(port), '--json', '--headers'], () => exchange(port, reqs));
    assert.equal(json.code, 0, json.stderr);
    assert.doesNotMatch(json.stdout, /[\u0080-\u009f\u001b]/, 'no raw C1 or ESC in JSON');
    const recs = json.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const cafe = recs.filter((r) => (r.url as string).startsWith('/caf'));
    assert.equal(cafe.length, 2, json.stdout);
    for (const r of cafe) {
      assert.equal(r.url, '/café/\\xc2\\x9b/\\xff\\xfe/\\xe0\\x80');
      const h = (r.req_headers as [string, string][]).find(([n]) => n === 'X-Name');
      assert.deepEqual(h, ['X-Name', 'café \\xc2\\x9b\\x1b[31m \\xc3(']);
    }
    assert.equal(recs.filter((r) => r.url === '/a\\b').length, 2, 'the path /a\\b as sent');

    const text = await runHttp(['--port', String(port), '--stats', '1', '--headers'], () => exchange(port, reqs));
    assert.equal(text.code, 0, text.stderr);
    const all = text.stdout + text.stderr;
    assert.doesNotMatch(all, /[\u0080-\u009f\u001b]/, 'no raw C1 or ESC on the terminal');
    assert.match(text.stdout, /GET \/café\/\\xc2\\x9b\/\\xff\\xfe\/\\xe0\\x80$/m);
    assert.match(text.stdout, /> X-Name: café \\xc2\\x9b\\x1b\[31m \\xc3\($/m);
    assert.match(text.stdout, / GET \/a\\b$/m, 'the line shows /a\\b');
    assert.doesNotMatch(all, /\/a\\\\b/, 'never /a\\\\b');
    assert.match(text.stderr, / GET \/a\\b$/m, 'the table shows /a\\b');
    assert.match(text.stderr, / GET \/café\//, 'the table shows /café');
  });
  it('marks a header list cut at the copied 2 KB (a 100 KB X-Big header), in text and JSON', async () => {
    const big = latin1(`GET /big HTTP/1.1\r\nHost: big.test\r\nX-Big: ${'a'.repeat(100 * 1024)}\r\nX-After: 1\r\n\r\n`);
    const small = latin1('GET /small HTTP/1.1\r\nHost: small.test\r\n\r\n');
    const json = await runHttp(['--port', String(port), '--json', '--headers'], () => exchange(port, [big, small]));
    assert.equal(json.code, 0, json.stderr);
    const recs = json.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const bigRecs = recs.filter((r) => r.url === '/big');
    assert.equal(bigRecs.length, 2, 'client and server');
    for (const r of bigRecs) {
      assert.deepEqual(r.req_headers, [['Host', 'big.test']], 'what was copied');
      assert.equal(r.req_headers_truncated, true, `${r.side}: the list is marked cut`);
      assert.equal(r.resp_headers_truncated, false);
    }
    for (const r of recs.filter((x) => x.url === '/small')) assert.equal(r.req_headers_truncated, false);

    const text = await runHttp(['--port', String(port), '--headers'], () => exchange(port, [big, small]));
    const marks = text.stdout.split('\n').filter((l) => l.startsWith('    > (more headers not captured'));
    assert.equal(marks.length, 2, `one mark under each /big line:\n${text.stdout}`);
  });

  it('-c 1: one line printed, and the summary and its table count that one exchange, not the others seen', async () => {
    const reqs = [latin1('GET /one HTTP/1.1\r\nHost: x\r\n\r\n'), latin1('GET /two HTTP/1.1\r\nHost: x\r\n\r\n')];
    const r = await runHttp(['--port', String(port), '-c', '1'], () => exchange(port, reqs), 300);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 2, `a header and one line: ${r.stdout}`);
    assert.match(r.stderr, /stopped \((1 records|SIGINT)\): 1 records,/);
    assert.match(r.stderr, /wirelens: http: 1 exchanges,/);
    const rows = r.stderr.split('\n').filter((l) => /^wirelens: (cli|srv) /.test(l));
    assert.equal(rows.length, 1, `one row, the printed line's: ${r.stderr}`);
    assert.ok(lines[1]!.endsWith(' GET /one'), lines[1]);
    assert.match(rows[0]!, /^wirelens: (cli|srv) +1 .* GET \/one$/);
  });

  it('--stats-only: a route the kernel cut at 64 bytes inside a character ends on whole characters, then …', async () => {
    // 63 ASCII bytes, then é é é: the kernel keeps 64 bytes, the first byte of the first é among them.
    const route = '/' + 'a'.repeat(62);
    const req = latin1(`GET ${route}\xc3\xa9\xc3\xa9\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n`);
    const r = await runHttp(['--port', String(port), '--stats-only'], () => exchange(port, [req]), 300);
    assert.equal(r.code, 0, r.stderr);
    const rows = r.stdout.split('\n').filter((l) => /^(cli|srv) /.test(l));
    assert.equal(rows.length, 2, `both ends: ${r.stdout}`);
    for (const row of rows) assert.ok(row.endsWith(` GET ${route}…`), row);
    assert.doesNotMatch(r.stdout, /\\xc3/);
  });
});

describe('wirelens http: long heads with nginx and curl', { skip }, () => {
  let ng: TestNginx;
  before(async () => {
    ng = await startNginx({ 'index.html': 'hi' }, { accessLog: true });
  });
  after(() => ng?.stop());

  it('a 1500-byte URL is whole on both sides (nginx reads the head 1 KB at a time), as in the access log', async () => {
    const target = `/long/${'a'.repeat(700)}?q=${'b'.repeat(1500 - 700 - 9)}`;
    assert.equal(target.length, 1500);
    let curlPid = 0;
    const { stdout, stderr, code } = await runHttp(['--port', String(ng.port), '--json'], async () => {
      const c = start('curl', [
        '-s',
        '-S',
        '--max-time',
        '10',
        '-o',
        '/dev/null',
        `http://127.0.0.1:${ng.port}${target}`,
      ]);
      curlPid = c.child.pid!;
      assert.equal(await c.exited, 0, c.stderr());
    });
    assert.equal(code, 0, stderr);
    const logged = fs.readFileSync(path.join(ng.dir, 'access.log'), 'utf8').trim();
    assert.equal(logged, target, "nginx's access log has the target");
    const recs = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(recs.map((r) => r.side).sort(), ['client', 'server'], stdout);
    for (const r of recs) {
      assert.equal(r.url, logged, `${r.side}: the whole URL`);
      assert.equal(r.url_truncated, false);
      assert.equal(r.status, 404);
    }
    assert.equal(recs.find((r) => r.side === 'client')!.pid, curlPid);
  });
});

describe('wirelens http: order and peers', { skip }, () => {
  let srv: Spawned;
  let port: number;
  before(async () => {
    ({ srv, port } = await startFixtureServer(path.join(FIXTURES, 'http-server.js'), ['127.0.0.1', '0']));
  });
  after(async () => {
    if (srv) await stop(srv);
  });

  /** A slow request, then a fast one that completes first; returns curl's local port of the fast one. */
  async function slowThenFast(): Promise<number> {
    const slow = start('curl', ['-s', '-o', '/dev/null', '--max-time', '10', `http://127.0.0.1:${port}/sleep?ms=400`]);
    await new Promise((r) => setTimeout(r, 100));
    const fast = start('curl', ['-s', '-o', '/dev/null', '-w', '%{local_port}', `http://127.0.0.1:${port}/fast`]);
    assert.equal(await fast.exited, 0);
    assert.equal(await slow.exited, 0);
    return Number(fast.stdout());
  }

  it('prints exchanges in the order of their timestamps, not of completion (JSON and text)', async () => {
    const json = await runHttp(['--port', String(port), '--json'], async () => void (await slowThenFast()));
    const recs = json.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(
      recs.map((r) => (r.url as string).split('?')[0]),
      ['/sleep', '/sleep', '/fast', '/fast'],
      json.stdout,
    );
    const ts = recs.map((r) => r.ts as string);
    assert.deepEqual(ts, [...ts].sort(), 'timestamps never go back');
  });

  it('text lines carry the peer: the server for the client, the client (as curl reports its port) for the server', async () => {
    let fastPort = 0;
    const text = await runHttp(['--port', String(port)], async () => {
      fastPort = await slowThenFast();
    });
    const lines = text.stdout.trim().split('\n');
    assert.match(lines[0]!, /^TIME +SIDE +COMM +REMOTE +STS +LATENCY REQUEST$/);
    const body = lines.slice(1);
    assert.deepEqual(
      body.map((l) => / GET (\/\w+)/.exec(l)?.[1]),
      ['/sleep', '/sleep', '/fast', '/fast'],
      text.stdout,
    );
    const fast = body.filter((l) => l.includes('GET /fast'));
    assert.match(
      fast.find((l) => / cli /.test(l))!,
      new RegExp(` 127\\.0\\.0\\.1:${port} +200 `),
    );
    assert.match(
      fast.find((l) => / srv /.test(l))!,
      new RegExp(` 127\\.0\\.0\\.1:${fastPort} +200 `),
    );
    for (const l of lines) assert.ok(l.length <= 80, `fits 80 columns: ${l}`);
  });
});
