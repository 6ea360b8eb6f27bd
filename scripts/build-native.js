#!/usr/bin/env node
// Builds native/ with node-gyp against the headers of the Node that runs
// this script when they are installed beside it (no download needed).
// Skips the build when the addon is already built from the current sources
// by this Node's ABI (npm runs this as the install script: `npx wirelens`
// right after scripts/setup.sh must not rebuild what setup just built);
// --force rebuilds anyway.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const native = path.join(__dirname, '..', 'native');
const addon = path.join(native, 'build', 'Release', 'wirelens_native.node');
const stamp = path.join(native, 'build', 'built-for.json');
const builtFor = JSON.stringify({ modules: process.versions.modules, napi: process.versions.napi });

/** Newest modification time (ms) of the files the addon is built from. */
function newestSource() {
  let newest = fs.statSync(__filename).mtimeMs;
  const walk = (p) => {
    const st = fs.statSync(p);
    if (st.isDirectory()) for (const e of fs.readdirSync(p)) walk(path.join(p, e));
    else newest = Math.max(newest, st.mtimeMs);
  };
  walk(path.join(native, 'src'));
  walk(path.join(native, 'binding.gyp'));
  return newest;
}

function upToDate() {
  try {
    return fs.readFileSync(stamp, 'utf8') === builtFor && fs.statSync(addon).mtimeMs >= newestSource();
  } catch {
    return false;
  }
}

if (!process.argv.includes('--force') && upToDate()) {
  console.log(`native addon up to date (${path.relative(process.cwd(), addon) || addon}); --force rebuilds`);
  process.exit(0);
}

const prefix = path.dirname(path.dirname(process.execPath));
const args = ['rebuild', '--directory', native];
if (fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);

let gyp = process.env.npm_config_node_gyp;
if (!gyp) {
  const npmDir = path.join(prefix, 'lib', 'node_modules', 'npm');
  gyp = path.join(npmDir, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
}
const r = spawnSync(process.execPath, [gyp, ...args], { stdio: 'inherit' });
if (r.status !== 0) {
  console.error('error: building the native addon failed.');
  console.error(
    'remedy: apt-get install -y g++ make python3 libbpf-dev libelf-dev zlib1g-dev, then npm run build:native',
  );
  process.exit(r.status ?? 1);
}
fs.writeFileSync(stamp, builtFor);
