/**
 * doctor tells the truth: every hook it calls ok for a command is the hook
 * that command attaches (read from the command's own -v report), and a hook a
 * command goes without is never ok in doctor.
 */
import { describe, it } from 'node:test';
import { execFileSync, spawnSync } from 'node:child_process';
import * as assert from 'node:assert/strict';
import { CLI } from '../helpers/paths';
import { run } from '../helpers/proc';
import { kernelSkipReason } from '../helpers/skip';

const skip = kernelSkipReason();
const wl = (...args: string[]) => run(process.execPath, [CLI, ...args], 60000);

interface Check {
  name: string;
  status: string;
  detail: string;
}

/** Each command doctor reports on, and how to run it briefly with its hook report on stderr. */
const COMMANDS: Record<string, string[]> = {
  tcp: ['tcp', '-v', '--duration', '0.5'],
  'tcp --events all': ['tcp', '--events', 'all', '-v', '--duration', '0.5'],
  'tcp --events': ['tcp', '--events', 'all', '-v', '--duration', '0.5'],
  http: ['http', '-v', '--duration', '0.5'],
  'http --stats-only': ['http', '--stats-only', '-v', '--duration', '0.5'],
  top: ['top', '--json', '-v', '--duration', '0.5'],
  'dns/tls': ['dns', '-v', '--duration', '0.5'],
  capture: ['capture', '-v', '--duration', '0.5', 'tcp port 80'],
  'capture -w': ['capture', '-v', '--duration', '0.5', '-w', '/dev/null', 'tcp port 80'],
  guard: ['guard', '-i', 'lo', '-v', '--duration', '0.5'],
};

/** slot -> hook kind ('none' when not hooked), from `wirelens: hook SLOT: KIND [...]` lines. */
function hooksOf(stderr: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of stderr.matchAll(/^wirelens: hook (.+?): (NOT HOOKED|\w+ \[)/gm)) {
    out.set(m[1]!, m[2] === 'NOT HOOKED' ? 'none' : m[2]!.replace(/ \[$/, ''));
  }
  return out;
}

describe('doctor agrees with the commands', { skip }, () => {
  it('every hook doctor calls ok is what the command attaches, and none it lacks is ok', async () => {
    const r = await wl('doctor', '--json');
    assert.equal(r.code, 0, r.stderr);
    const checks = (JSON.parse(r.stdout) as { checks: Check[] }).checks;
    const tools = new Set<string>();
    for (const c of checks) {
      const m = /^(.+?): /.exec(c.name);
      if (m && COMMANDS[m[1]!]) tools.add(m[1]!);
    }
    for (const t of ['tcp', 'http', 'http --stats-only', 'top', 'dns/tls', 'capture', 'capture -w', 'guard'])
      assert.ok(tools.has(t), `doctor reports on ${t}`);
    for (const tool of tools) {
      const cmd = await wl(...COMMANDS[tool]!);
      assert.equal(cmd.code, 0, `${tool}: ${cmd.stderr}`);
      const got = hooksOf(cmd.stderr);
      assert.ok(got.size > 0, `${tool} reports its hooks: ${cmd.stderr}`);
      for (const c of checks.filter((x) => x.name.startsWith(`${tool}: `))) {
        const slot = c.name.slice(tool.length + 2);
        const kind = got.get(slot);
        assert.ok(kind !== undefined, `${tool} reports slot "${slot}": ${cmd.stderr}`);
        if (c.status === 'ok') {
          assert.notEqual(kind, 'none', `doctor says ok for ${c.name} but ${tool} falls back:\n${cmd.stderr}`);
          assert.equal(`via ${kind}`, /^via \S+/.exec(c.detail)?.[0], `${c.name}: doctor and ${tool} agree`);
        } else {
          assert.equal(kind, 'none', `${c.name}: doctor says ${c.status} (${c.detail}) but ${tool} hooked it`);
        }
      }
      // And nothing the command left unhooked is missing from doctor.
      for (const [slot, kind] of got) {
        if (kind !== 'none') continue;
        const c = checks.find((x) => x.name === `${tool}: ${slot}`);
        assert.ok(c && c.status !== 'ok', `${tool} falls back on "${slot}"; doctor: ${c?.status ?? 'silent'}`);
      }
    }
  });
});

describe('doctor and a refused variant', { skip }, () => {
  it("capture -w's programs that make pcapng blocks refused: doctor warns with what the fallback costs, and capture -w falls back", () => {
    const env = { ...process.env, WIRELENS_REFUSE_BLOCKS: '1' };
    const j = JSON.parse(execFileSync(process.execPath, [CLI, 'doctor', '--json'], { env }).toString()) as {
      checks: Check[];
    };
    const c = j.checks.find((x) => x.name === 'capture -w');
    assert.equal(c?.status, 'warn', JSON.stringify(c));
    assert.match(c!.detail, /refused here .*written from user space/);
    const r = spawnSync(process.execPath, [CLI, ...COMMANDS['capture -w']!], { env, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /pcapng blocks are not made in the kernel here/);
  });
});

describe('doctor text', { skip }, () => {
  it('fits 80 columns; a missing kind on a new enough kernel names its build options, not a version', async () => {
    const r = await wl('doctor');
    assert.equal(r.code, 0, r.stderr);
    for (const l of r.stdout.split('\n')) assert.ok([...l].length <= 80, `${[...l].length} columns: ${l}`);
    const j = JSON.parse((await wl('doctor', '--json')).stdout) as { hooks: Record<string, { state: string }> };
    if (j.hooks.kprobe?.state === 'unsupported') {
      const kprobe = /^warn {4}hook kprobe[\s\S]*?(?=\n\S)/m.exec(r.stdout)?.[0] ?? '';
      assert.doesNotMatch(kprobe, /needs kernel 4\.1\+/, kprobe);
      assert.match(kprobe.replace(/\s+/g, ' '), /CONFIG_KPROBES/, kprobe);
    }
  });
});
