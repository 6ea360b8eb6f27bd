#!/usr/bin/env node
// Builds native/ with node-gyp against the headers of the Node that runs
// this script when they are installed beside it (no download needed).
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const prefix = path.dirname(path.dirname(process.execPath));
const args = ['rebuild', '--directory', path.join(__dirname, '..', 'native')];
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
