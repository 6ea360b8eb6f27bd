/**
 * `wirelens guard` (and top) about the interfaces they watch, in a network
 * namespace the test makes: names with control characters come out escaped
 * (banner, unknown -i remedy, flag values), a watched interface down at start
 * is warned about, and one that goes up, down or away while guard runs is
 * noted once (stderr, and an `interface` event with --json). No traffic.
 */
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { CLI } from '../helpers/paths';
import { run, start, stop, waitFor } from '../helpers/proc';
import { kernelSkipReason } from '../helpers/skip';

const skip = kernelSkipReason();
const NS = `wlt-gif-${process.pid}`;
const EVIL = 'g\x1b[31mr\x07';
const EVIL_PEER = 'h\x01"q\\';
/** Control characters other than the newline that ends each line. */
const CONTROL = /[\x00-\x09\x0b-\x1f\x7f]/;

const ip = (...args: string[]): void => void execFileSync('ip', ['-n', NS, ...args], { stdio: 'ignore' });
const wl = (args: string[], ms = 30000): ReturnType<typeof run> =>
  run('ip', ['netns', 'exec', NS, process.execPath, CLI, ...args], ms);

describe('guard: interface names and states', { skip }, () => {
  before(() => {
    execFileSync('ip', ['netns', 'add', NS]);
    ip('link', 'set', 'lo', 'up');
    ip('link', 'add', EVIL, 'type', 'veth', 'peer', 'name', EVIL_PEER);
    ip('link', 'set', EVIL, 'up');
    ip('link', 'set', EVIL_PEER, 'up');
    ip('link', 'add', 'wlgi0', 'type', 'veth', 'peer', 'name', 'wlgi1');
    ip('link', 'set', 'wlgi0', 'up');
    ip('link', 'add', 'wlgd0', 'type', 'veth', 'peer', 'name', 'wlgd1'); // left down
  });

  after(() => {
    try {
      execFileSync('ip', ['netns', 'del', NS], { stdio: 'ignore' });
    } catch {
      /* gone */
    }
  });

  it('names and values with control characters are escaped (banner, -i remedy, --allow, top -i)', async () => {
    const g = await wl(['guard', '--duration', '1']);
    assert.equal(g.code, 0, g.stderr);
    assert.doesNotMatch(g.stderr, CONTROL);
    assert.match(g.stderr, /guard: watching .*g\\x1b\[31mr\\x07/);
    assert.match(g.stderr, /h\\x01"q\\/);

    const bad = await wl(['guard', '-i', 'nosuch0']);
    assert.equal(bad.code, 2, bad.stderr);
    assert.doesNotMatch(bad.stderr, CONTROL);
    assert.match(bad.stderr, /remedy: choose one of: .*g\\x1b\[31mr\\x07/);

    const allow = await wl(['guard', '--block', '--allow', '1.2.3.4\x1b[2J']);
    assert.equal(allow.code, 2, allow.stderr);
    assert.doesNotMatch(allow.stderr, CONTROL);
    assert.match(allow.stderr, /\(got "1\.2\.3\.4\\x1b\[2J"\)/);

    const top = await wl(['top', '-i', EVIL, '--interval', '0.5', '--duration', '1']);
    assert.equal(top.code, 0, top.stderr);
    assert.doesNotMatch(top.stdout + top.stderr, CONTROL);
    assert.match(top.stdout, /TC on g\\x1b\[31mr/);
  });

  it('-i "" and an --allow of every address say so in words', async () => {
    const empty = await wl(['guard', '-i', '']);
    assert.equal(empty.code, 2, empty.stderr);
    assert.match(empty.stderr, /error: -i needs a value \(IFACE\), not an empty one/);
    const all = await wl(['guard', '--block', '--allow', '0.0.0.0/0', '--duration', '1']);
    assert.equal(all.code, 0, all.stderr);
    assert.equal(
      all.stderr.match(/--allow 0\.0\.0\.0\/0 holds every IPv4 address: --block will block no IPv4/g)?.length,
      1,
    );
  });

  it('down at start: one warning; up, down and gone while running: one note and one event each', async () => {
    const argv = ['netns', 'exec', NS, process.execPath, CLI, 'guard', '--json', '-v'];
    const g = start('ip', [...argv, '-i', 'wlgd0', '-i', 'wlgi0', '-i', 'wlgi0', '--duration', '20']);
    try {
      await waitFor(g.stderr, /attached in/, 20000, 'guard to attach');
      assert.match(g.stderr(), /guard: watching wlgd0, wlgi0 \(/, 'each interface once');
      assert.equal(g.stderr().match(/warning: wlgd0 is down: nothing arrives on it/g)?.length, 1, g.stderr());
      ip('link', 'set', 'wlgd0', 'up');
      await waitFor(g.stderr, /note: wlgd0 is up again/, 5000, 'the up note');
      ip('link', 'set', 'wlgi0', 'down');
      await waitFor(g.stderr, /note: wlgi0 went down/, 5000, 'the down note');
      ip('link', 'del', 'wlgi0');
      await waitFor(g.stderr, /note: wlgi0 is gone/, 5000, 'the gone note');
      ip('link', 'add', 'wlgi0', 'type', 'veth', 'peer', 'name', 'wlgi1');
      ip('link', 'set', 'wlgi0', 'up');
      await new Promise((r) => setTimeout(r, 2500));
      assert.equal(await stop(g, 'SIGINT'), 0, g.stderr());
      const events = g
        .stdout()
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as { event: string; interface?: string; state?: string })
        .filter((e) => e.event === 'interface')
        .map((e) => `${e.interface} ${e.state}`);
      assert.deepEqual(events, ['wlgd0 down', 'wlgd0 up', 'wlgi0 down', 'wlgi0 gone']);
      for (const note of [/note: wlgd0 is up again/g, /note: wlgi0 went down/g, /note: wlgi0 is gone/g])
        assert.equal(g.stderr().match(note)?.length, 1, g.stderr());
    } finally {
      await stop(g, 'SIGKILL');
    }
  });
});
