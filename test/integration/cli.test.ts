/**
 * The CLI contract: bad input is one error line (naming the range a number
 * takes) and a remedy line naming --help, exit 2; doctor as
 * root and as an unprivileged user; -c and --duration stop; SIGKILL leaves no
 * wirelens program in the kernel.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { CLI, TCP_PEER } from '../helpers/paths';
import { run, start, stop, waitFor } from '../helpers/proc';
import { kernelSkipReason } from '../helpers/skip';
import { startFixtureServer } from '../helpers/fixtures';
import { progIdsHeldBy } from '../../src/kernel/leftovers';

const skip = kernelSkipReason();
const wl = (...args: string[]) => run(process.execPath, [CLI, ...args], 30000);
const STACK = /\n\s+at /;

describe('bad input', () => {
  const cases: [string, string[], RegExp][] = [
    ['unknown command', ['frobnicate'], /unknown command "frobnicate"/],
    ['unknown flag', ['tcp', '--frob'], /unknown flag --frob/],
    ['port out of range', ['tcp', '--port', '70000'], /--port needs a whole number from 1 to 65535 \(got "70000"\)/],
    ['port zero', ['tcp', '--port', '0'], /--port needs a whole number from 1 to 65535 \(got "0"\)/],
    ['negative port', ['tcp', '--port', '-1'], /--port needs a whole number from 1 to 65535 \(got "-1"\)/],
    ['non-numeric pid', ['tcp', '--pid', 'abc'], /--pid needs a whole number from 1 to 4194304 \(got "abc"\)/],
    ['missing value', ['tcp', '--comm'], /--comm needs a value \(NAME\)/],
    ['missing number', ['tcp', '--duration'], /--duration needs a number from 0\.001 to 2000000$/],
    ['count zero', ['tcp', '-c', '0'], /-c needs a whole number from 1 to 2\^32 \(got "0"\)/],
    ['negative count', ['tcp', '-c', '-1'], /-c needs a whole number from 1 to 2\^32 \(got "-1"\)/],
    ['count too big', ['tcp', '--count', '99999999999'], /--count needs a whole number from 1 to 2\^32/],
    ['fractional count', ['tcp', '-c', '1.5'], /-c needs a whole number from 1 to 2\^32 \(got "1.5"\)/],
    ['huge duration', ['tcp', '--duration', '1e99'], /--duration needs a number from 0\.001 to 2000000 \(got "1e99"\)/],
    ['negative duration', ['tcp', '--duration', '-2'], /--duration needs a number from 0\.001 to 2000000/],
    ['rtt-every range', ['tcp', '--rtt-every', '0'], /--rtt-every needs a number from 1 to 3600000/],
    ['bool with a value', ['tcp', '--json=yes'], /--json takes no value \(got "yes"\)/],
    ['top interval', ['top', '--interval', '0'], /--interval needs a number from 0\.1 to 3600 \(got "0"\)/],
    ['top rows', ['top', '--rows', '-3'], /--rows needs a whole number from 1 to 100000 \(got "-3"\)/],
    ['dns timeout', ['dns', '--timeout', '-1'], /--timeout needs a number from 0\.05 to 3600 \(got "-1"\)/],
    ['tls timeout', ['tls', '--timeout', 'soon'], /--timeout needs a number from 0\.05 to 3600 \(got "soon"\)/],
    ['bad hooks mode', ['tcp', '--hooks', 'magic'], /--hooks must be one of auto, fallback/],
    ['too long comm', ['tcp', '--comm', 'a-very-long-process-name'], /15-byte task name/],
    ['stray argument', ['tcp', 'extra'], /unexpected argument "extra"/],
    ['http: lower-case method', ['http', '--method', 'get'], /--method must be one of GET PUT POST HEAD/],
    ['http: a method not recognised', ['http', '--method', 'MKCOL'], /--method must be one of .*\(got "MKCOL"\)/],
    ['http: prefix too long', ['http', '--url-prefix', '/' + 'a'.repeat(80)], /--url-prefix must be 1 to 64 bytes/],
    ['http: non-ASCII filter', ['http', '--url-contains', 'caf\u00e9'], /printable ASCII/],
    ['http: host with a port', ['http', '--host', 'example.test:8080/x'], /--host must be a host name/],
    ['http: stats interval', ['http', '--stats', '0'], /--stats needs a number from 0\.1 to 86400 \(got "0"\)/],
    ['doctor: stray argument', ['doctor', 'x'], /unexpected argument "x"/],
  ];
  for (const [name, args, re] of cases) {
    it(`${name}: one error line and a remedy naming --help, exit 2`, async () => {
      const r = await wl(...args);
      assert.equal(r.code, 2, r.stderr);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 2, r.stderr);
      assert.match(lines[0]!, /^wirelens: error: /);
      assert.match(lines[0]!, re);
      const cmd = args[0] === 'frobnicate' ? '' : `${args[0]} `;
      assert.equal(
        lines[1],
        `wirelens: remedy: wirelens ${cmd}--help ${cmd ? 'lists its options' : 'lists the commands'}`,
      );
      assert.ok(r.stderr.length < 200, `short: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, STACK);
      assert.equal(r.stdout, '');
    });
  }

  it('--help prints help and exits 0', async () => {
    const r = await wl('tcp', '--help');
    assert.equal(r.code, 0);
    assert.match(r.stdout, /--port PORT/);
  });
});

describe('doctor', () => {
  it('as root: every check passes, hooks are probed, --json parses', { skip }, async () => {
    const r = await wl('doctor', '--json');
    assert.equal(r.code, 0, r.stderr);
    const rep = JSON.parse(r.stdout) as {
      ok: boolean;
      checks: { name: string; status: string }[];
      hooks: Record<string, { state: string }>;
    };
    assert.equal(rep.ok, true);
    assert.equal(rep.hooks.tracepoint?.state, 'supported');
    assert.equal(rep.hooks.ringbuf?.state, 'supported');
    for (const k of ['kprobe', 'fentry', 'tp_btf', 'raw_tp', 'syscall_tracepoint', 'uprobe', 'tc', 'tcx', 'xdp']) {
      assert.ok(rep.hooks[k], `hook ${k} probed`);
    }
    const human = await wl('doctor');
    assert.equal(human.code, 0);
    assert.match(human.stdout, /wirelens can run here/);
    // Kinds this kernel lacks come with what wirelens does instead.
    for (const [k, v] of Object.entries(rep.hooks)) {
      if (v.state !== 'supported')
        // The detail may wrap (80 columns) before the remedy line.
        assert.match(human.stdout, new RegExp(`hook ${k} [^\\n]*(\\n {34}[^\\n]*)*\\n\\s+-> \\S`), `remedy for ${k}`);
    }
  });

  const setpriv = [
    'setpriv',
    '--reuid=65534',
    '--regid=65534',
    '--clear-groups',
    '--inh-caps=-all',
    '--bounding-set=-all',
  ];
  it(
    'as an unprivileged user: says to run as root, exits non-zero, no stack trace',
    { skip: process.getuid?.() !== 0 ? 'needs root to drop privileges' : undefined },
    async () => {
      const r = await run(setpriv[0]!, [...setpriv.slice(1), process.execPath, CLI, 'doctor'], 30000);
      assert.notEqual(r.code, 0);
      assert.match(r.stdout, /MISSING privileges/);
      assert.match(r.stdout, /run as root/);
      assert.match(r.stdout, /wirelens cannot run here: privileges/);
      assert.doesNotMatch(r.stdout + r.stderr, STACK);
      const t = await run(setpriv[0]!, [...setpriv.slice(1), process.execPath, CLI, 'tcp'], 30000);
      assert.equal(t.code, 77);
      assert.match(t.stderr, /^wirelens: error: wirelens needs root/m);
      assert.match(t.stderr, /^wirelens: remedy: run as root/m);
      assert.doesNotMatch(t.stderr, STACK);
    },
  );
});

function loadedProgIds(): Set<number> {
  const out = execFileSync('bpftool', ['-j', 'prog', 'show'], { encoding: 'utf8' });
  return new Set((JSON.parse(out) as { id: number; name?: string }[]).map((p) => p.id));
}

describe('lifecycle', { skip }, () => {
  it('SIGKILL leaves none of its programs or links in the kernel', async () => {
    const p = start(process.execPath, [CLI, 'tcp', '-v']);
    let ids: number[];
    try {
      await waitFor(p.stderr, /attached in/, 15000, 'attach');
      ids = progIdsHeldBy(p.child.pid!);
      assert.ok(ids.length >= 2, `it holds its programs (${ids})`);
      const before = execFileSync('bpftool', ['-j', 'prog', 'show'], { encoding: 'utf8' });
      const names = (JSON.parse(before) as { id: number; name?: string }[])
        .filter((x) => ids.includes(x.id))
        .map((x) => x.name);
      assert.equal(names.length, new Set(ids).size, 'bpftool lists every program it holds');
      for (const n of names) assert.match(String(n), /^wl_/, 'program names start with wl_');
    } finally {
      await stop(p, 'SIGKILL');
    }
    const deadline = Date.now() + 5000;
    let left: number[] = ids;
    while (Date.now() < deadline) {
      const loaded = loadedProgIds();
      left = ids.filter((id) => loaded.has(id));
      if (left.length === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual(left, [], 'programs gone after SIGKILL');
    const links = JSON.parse(execFileSync('bpftool', ['-j', 'link', 'show'], { encoding: 'utf8' })) as {
      prog_id: number;
    }[];
    assert.equal(links.filter((l) => ids.includes(l.prog_id)).length, 0, 'no links left');
  });

  it('-c N stops after N records; --duration stops on time; summary on stderr', async () => {
    const { srv, port } = await startFixtureServer(TCP_PEER, ['server', '127.0.0.1', '0', '1']);
    const p = start(process.execPath, [CLI, 'tcp', '--json', '-v', '-c', '3', '--port', String(port)]);
    try {
      await waitFor(p.stderr, /attached in/, 15000, 'attach');
      for (let i = 0; i < 3; i++) await run(process.execPath, [TCP_PEER, 'client', '127.0.0.1', String(port), '1']);
      const code = await Promise.race([p.exited, new Promise<string>((r) => setTimeout(() => r('timeout'), 10000))]);
      assert.equal(code, 0, `exits by itself after -c 3: ${p.stderr()}`);
      assert.equal(p.stdout().trim().split('\n').length, 3);
      assert.match(p.stderr(), /stopped \(3 records\): 3 records, 0 lost/);

      const t0 = Date.now();
      const d = await run(process.execPath, [CLI, 'tcp', '--duration', '1'], 20000);
      assert.equal(d.code, 0, d.stderr);
      assert.ok(Date.now() - t0 < 10000);
      assert.match(d.stderr, /stopped \(1s elapsed\): \d+ records, 0 lost, \d+ filtered in kernel/);
      assert.match(
        d.stdout,
        /^TIME\s+EVENT\s+PID\s+COMM\s+LPORT\s+REMOTE\s+DETAILS$/m,
        'the 80-column table when stdout is not a terminal',
      );
      const wide = await run(process.execPath, [CLI, 'tcp', '--duration', '0.2'], 20000, {
        env: { ...process.env, COLUMNS: '200' },
      });
      assert.match(
        wide.stdout,
        /^TIME\s+EVENT\s+DIR\s+PID\s+UID\s+COMM\s+NETNS\s+LOCAL\/SOURCE\s+REMOTE\/DEST\s+DETAILS$/m,
        'the wide table for COLUMNS=200',
      );
    } finally {
      await stop(p, 'SIGKILL');
      await stop(srv);
    }
  });

  it('SIGTERM stops cleanly with a summary', async () => {
    const p = start(process.execPath, [CLI, 'tcp', '-v']);
    await waitFor(p.stderr, /attached in/, 15000, 'attach');
    const code = await stop(p, 'SIGTERM');
    assert.equal(code, 0);
    assert.match(p.stderr(), /stopped \(SIGTERM\): \d+ records, 0 lost/);
  });
});
