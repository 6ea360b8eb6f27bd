/**
 * `wirelens top` as a script sees it: --duration prints whole intervals and
 * no sliver of a tail; --hooks fallback says a hook was left out because
 * fallback was asked for, not that the kernel cannot do it.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import * as path from 'node:path';
import { CLI } from '../helpers/paths';
import { run, start, stop, waitFor } from '../helpers/proc';
import { execFileSync } from 'node:child_process';
import { startFixtureServer } from '../helpers/fixtures';
import { kernelSkipReason } from '../helpers/skip';

const skip = kernelSkipReason();
const wl = (...args: string[]) => run(process.execPath, [CLI, ...args], 60000);

describe('top --json --duration', { skip }, () => {
  for (const [duration, interval, want] of [
    ['1', '1', 1],
    ['2', '1', 2],
    ['1', '0.5', 2],
  ] as const) {
    it(`--duration ${duration} --interval ${interval}: ${want} snapshot(s), none shorter than a tenth of an interval`, async () => {
      for (let i = 0; i < 3; i++) {
        const r = await wl('top', '--json', '--duration', duration, '--interval', interval);
        assert.equal(r.code, 0, r.stderr);
        const snaps = r.stdout
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as { interval_s: number });
        for (const s of snaps) assert.ok(s.interval_s >= Number(interval) / 10, `a ${s.interval_s} s snapshot`);
        assert.equal(snaps.length, want, r.stdout);
      }
    });
  }

  it('a partial last interval of at least a tenth is printed', async () => {
    const r = await wl('top', '--json', '--duration', '1.5', '--interval', '1');
    const snaps = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { interval_s: number });
    assert.equal(snaps.length, 2, r.stdout);
    assert.ok(snaps[1]!.interval_s > 0.3 && snaps[1]!.interval_s < 0.7, `tail ${snaps[1]!.interval_s}`);
  });
});

describe('--hooks fallback warnings', { skip }, () => {
  for (const cmd of [
    ['top', '--json'],
    ['tcp', '--json'],
    ['dns', '--json'],
  ]) {
    it(`${cmd[0]}: a hook left out by fallback is said to be, not blamed on the kernel`, async () => {
      const auto = await wl(...cmd, '-v', '--duration', '0.3');
      const fb = await wl(...cmd, '-v', '--hooks', 'fallback', '--duration', '0.3');
      assert.equal(fb.code, 0, fb.stderr);
      for (const line of fb.stderr.split('\n').filter((l) => /warning: .* (not hooked|could not be hooked)/.test(l))) {
        const slot = /warning: (.+?) (?:not hooked|could not be hooked)/.exec(line)![1]!;
        const inAuto = new RegExp(`hook ${slot.replace(/[()[\]]/g, '\\$&')}: (\\w+)`).exec(auto.stderr)?.[1];
        // The same slot hooked without --hooks fallback: fallback, not the kernel, left it out.
        if (inAuto && inAuto !== 'NOT') {
          assert.doesNotMatch(line, /could not be hooked on this kernel/, line);
          assert.match(line, /--hooks fallback tries only \S+ for it \(.+ left out as asked\)/, line);
        }
      }
    });
  }
});

describe('top: a listener opened before top', { skip }, () => {
  it('its connections count for its process, not (no process), with a connections/s rate', async () => {
    const script = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'http-server.js');
    const { srv, port } = await startFixtureServer(script, ['127.0.0.1', '0']);
    const top = start(process.execPath, [CLI, 'top', '--json', '--interval', '0.5', '--rows', '1000', '-v']);
    try {
      await waitFor(top.stderr, /attached in/, 20000, 'top to attach');
      assert.match(top.stderr(), /named the process of \d+ socket\(s\) made before start/);
      const N = 40;
      for (let i = 0; i < N; i++) {
        await new Promise<void>((resolve, reject) => {
          const req = http.get({ host: '127.0.0.1', port, path: `/n${i}`, agent: false }, (res) => {
            res.resume();
            res.on('end', () => resolve());
          });
          req.on('error', reject);
        });
      }
      await new Promise((r) => setTimeout(r, 1200));
      await stop(top, 'SIGINT');
      const snaps = top
        .stdout()
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { processes: { pid: number | null; connections: number; conns_per_s: number }[] });
      const last = snaps[snaps.length - 1]!;
      const server = last.processes.find((p) => p.pid === srv.child.pid);
      const none = last.processes.find((p) => p.pid === null);
      assert.ok(server, `the server (pid ${srv.child.pid}) has a row: ${JSON.stringify(last.processes)}`);
      assert.ok(server.connections >= N, `server connections ${server.connections} >= ${N}`);
      assert.ok((none?.connections ?? 0) < N / 4, `(no process) connections ${none?.connections}`);
      // The rate: some interval saw the server's connections at a positive rate.
      const rates = snaps.map((sn) => sn.processes.find((p) => p.pid === srv.child.pid)?.conns_per_s ?? 0);
      assert.ok(Math.max(...rates) > 0, `conns_per_s ${rates}`);
    } finally {
      await stop(top, 'SIGKILL');
      await stop(srv, 'SIGKILL');
    }
  });
});

describe('top: per-socket counting', { skip }, () => {
  it('is what top gets wherever this kernel has iterators (not per-packet counting)', async () => {
    const doc = JSON.parse((await wl('doctor', '--json')).stdout) as { hooks: Record<string, { state: string }> };
    const r = await wl('top', '--json', '-v', '--duration', '0.3');
    if (doc.hooks.iter?.state !== 'supported') return;
    assert.match(r.stderr, /hook per-socket counts moved to the tables \(iterator\): iter \[/, r.stderr);
    assert.match(r.stderr, /counting: per socket/);
  });

  it('counts a process in another namespace whole while its connection stays open', async () => {
    const NS = `wlt-topns-${process.pid}`;
    const SIZE = 10 * 1024 * 1024;
    const hold = path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'tcp-hold.js');
    execFileSync('ip', ['netns', 'add', NS]);
    execFileSync('ip', ['-n', NS, 'link', 'set', 'lo', 'up']);
    const top = start(process.execPath, [CLI, 'top', '--json', '--interval', '0.3', '--rows', '1000', '-v']);
    let srv: Awaited<ReturnType<typeof startFixtureServer>>['srv'] | undefined;
    let client: ReturnType<typeof start> | undefined;
    try {
      await waitFor(top.stderr, /attached in/, 20000, 'top to attach');
      const s = await startFixtureServer(hold, ['server', '127.0.0.1', '0', String(SIZE)], NS);
      srv = s.srv;
      client = start('ip', [
        'netns',
        'exec',
        NS,
        process.execPath,
        hold,
        'client',
        '127.0.0.1',
        String(s.port),
        String(SIZE),
      ]);
      await waitFor(client.stdout, /done \d+/, 15000, 'the transfer');
      // Three reads later, the connection still open and idle: are the bytes in?
      await new Promise((r) => setTimeout(r, 1200));
      const lines = top.stdout().trim().split('\n');
      const last = JSON.parse(lines[lines.length - 1]!) as { processes: { pid: number | null; tx_bytes: number }[] };
      const me = last.processes.find((p) => p.pid === client!.child.pid);
      assert.ok(me, `client ${client.child.pid} in ${JSON.stringify(last.processes.slice(0, 5))}`);
      assert.ok(me.tx_bytes >= SIZE && me.tx_bytes <= SIZE * 1.02, `client tx ${me.tx_bytes} vs ${SIZE}`);
    } finally {
      await stop(top, 'SIGKILL');
      if (client) await stop(client, 'SIGKILL');
      if (srv) await stop(srv, 'SIGKILL');
      execFileSync('ip', ['netns', 'del', NS]);
    }
  });
});
