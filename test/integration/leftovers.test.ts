/**
 * What a killed wirelens leaves: classic TC filters of `top -i --hooks
 * fallback`. A restart removes them without calling the programs it just
 * freed leftovers; from another namespace, doctor and a run name the
 * namespace and the command that cleans it, and that command does.
 */
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import { CLI } from '../helpers/paths';
import { run, start, stop, waitFor } from '../helpers/proc';
import { kernelSkipReason } from '../helpers/skip';
import { progIdsHeldBy } from '../../src/kernel/leftovers';

const skip = kernelSkipReason();
const NS = `wlt-left-${process.pid}`;

/** Starts top with classic TC filters on lo of NS, waits until attached, SIGKILLs it; returns the program ids it held. */
async function killedTop(): Promise<{ ids: number[]; stderr: string }> {
  const p = start('ip', [
    'netns',
    'exec',
    NS,
    process.execPath,
    CLI,
    'top',
    '-i',
    'lo',
    '--hooks',
    'fallback',
    '--json',
    '-v',
  ]);
  try {
    await waitFor(p.stderr, /attached in/, 20000, 'top to attach');
    return { ids: progIdsHeldBy(p.child.pid!).concat(heldByChildren(p.child.pid!)), stderr: p.stderr() };
  } finally {
    await stop(p, 'SIGKILL');
  }
}

/** `ip netns exec` execs node in place, but be safe if it forks. */
function heldByChildren(pid: number): number[] {
  try {
    return fs
      .readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .flatMap((c) => progIdsHeldBy(c));
  } catch {
    return [];
  }
}

function tcFilters(): string {
  return ['ingress', 'egress']
    .map((d) => execFileSync('ip', ['netns', 'exec', NS, 'tc', 'filter', 'show', 'dev', 'lo', d], { encoding: 'utf8' }))
    .join('');
}

describe('leftovers of a killed top', { skip }, () => {
  before(() => {
    execFileSync('ip', ['netns', 'add', NS]);
    execFileSync('ip', ['-n', NS, 'link', 'set', 'lo', 'up']);
  });
  after(() => {
    try {
      execFileSync('ip', ['netns', 'del', NS], { stdio: 'ignore' });
    } catch {
      /* gone */
    }
  });

  it('a restart removes the filters and does not call their programs leftovers', async () => {
    let prev = await killedTop();
    assert.ok(prev.ids.length >= 2, `top held its programs (${prev.ids})`);
    for (let i = 0; i < 5; i++) {
      const cur = await killedTop();
      assert.match(cur.stderr, /removed TC filter wl_top_tc_in on lo ingress left by an earlier wirelens/);
      for (const id of prev.ids) {
        assert.doesNotMatch(cur.stderr, new RegExp(`#${id}\\b`), `restart ${i + 1} warns about program ${id}`);
      }
      assert.doesNotMatch(cur.stderr, /wl_top_tc_(in|out)#\d+[^\n]*held by no process/);
      prev = cur;
    }
  });

  it('from the host, doctor and a run name the namespace and the command that cleans it; that command does', async () => {
    const { ids } = await killedTop();
    assert.match(tcFilters(), /wl_top_tc_in/, 'the filter is left (tc shows it)');
    const ino = fs.statSync(`/run/netns/${NS}`).ino;
    const doc = await run(process.execPath, [CLI, 'doctor', '--json'], 60000);
    const checks = (JSON.parse(doc.stdout) as { checks: { name: string; detail: string; remedy?: string }[] }).checks;
    const left = checks.find((c) => c.name === 'leftovers' && ids.some((id) => c.detail.includes(`#${id}`)));
    assert.ok(left, `doctor reports them: ${JSON.stringify(checks.filter((c) => c.name === 'leftovers'))}`);
    assert.match(left.detail, new RegExp(`network namespace "${NS}" \\(inode ${ino}\\), on lo`));
    assert.equal(left.remedy, `\`ip netns exec ${NS} wirelens doctor --clean\` removes them`);
    assert.doesNotMatch(left.remedy, /next wirelens run/);
    const host = await run(process.execPath, [CLI, 'tcp', '--duration', '0.2'], 60000);
    assert.match(
      host.stderr,
      new RegExp(
        `left in network namespace "${NS}" \\(inode ${ino}\\)[^\\n]*ip netns exec ${NS} wirelens doctor --clean`,
      ),
    );
    const clean = await run('ip', ['netns', 'exec', NS, process.execPath, CLI, 'doctor', '--clean'], 60000);
    assert.match(clean.stdout, /^clean {3}removed TC filter wl_top_tc_in on lo ingress/m);
    assert.doesNotMatch(tcFilters(), /wl_top_tc/, 'tc shows no wirelens filter afterwards');
  });
});

describe('a running wirelens is not an earlier run', { skip }, () => {
  it("another run started meanwhile does not call a running capture's compiled filters leftovers", async () => {
    // The filters are reached only through the capture's prog arrays; the capture holds their fds too.
    const cap = start(process.execPath, [CLI, 'capture', '-w', '/dev/null', 'tcp port 5555 or udp port 5555']);
    try {
      await waitFor(cap.stderr, /listening on/, 20000, 'capture to listen');
      const filters = progIdsHeldBy(cap.child.pid!);
      assert.ok(filters.length >= 4, `capture holds its programs and filters (${filters})`);
      const other = await run(process.execPath, [CLI, 'tcp', '--duration', '0.2'], 60000);
      assert.doesNotMatch(other.stderr, /wl_cap_filter#\d+/, other.stderr);
      assert.doesNotMatch(other.stderr, /held by no process/, other.stderr);
    } finally {
      await stop(cap, 'SIGINT');
    }
  });
});
