/**
 * The README's first command, `bash scripts/setup.sh && npx wirelens tcp`:
 * its `npx wirelens` part starts as fast the first time as later. npx
 * links the repository into a fresh npm cache and runs its install script,
 * which must not rebuild the native addon setup just built (that took
 * ~18-37 s). Run with an empty npm cache of its own, offline (nothing is
 * fetched), in the built tree.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { ROOT } from '../helpers/paths';
import { run } from '../helpers/proc';

function hasNpx(): boolean {
  try {
    execFileSync('npx', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const built = fs.existsSync(path.join(ROOT, 'native', 'build', 'Release', 'wirelens_native.node'));

describe(
  'npx wirelens right after setup',
  { skip: !hasNpx() ? 'no npx' : !built ? 'tree not built' : undefined },
  () => {
    it('the first run with an empty npm cache takes under 5 s (no rebuild of the native addon)', async () => {
      const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'wl-npx-cache-'));
      try {
        const env = {
          ...process.env,
          npm_config_cache: cache,
          npm_config_offline: 'true',
          npm_config_update_notifier: 'false',
          npm_config_audit: 'false',
          npm_config_fund: 'false',
        };
        const t0 = Date.now();
        const r = await run('npx', ['--yes', 'wirelens', '--version'], 120_000, { cwd: ROOT, env });
        const s = (Date.now() - t0) / 1000;
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /^wirelens \d+\.\d+\.\d+$/m);
        assert.ok(s < 5, `first npx run took ${s.toFixed(1)} s`);
        assert.doesNotMatch(r.stdout + r.stderr, /gyp info/, 'no node-gyp run');
      } finally {
        fs.rmSync(cache, { recursive: true, force: true });
      }
    });
  },
);
