#!/usr/bin/env node
// Runs the compiled tests with node's test runner, one file at a time (the
// integration tests share the kernel): unit tests first, then integration.
// `node scripts/run-tests.js unit` runs only the unit tests.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const root = path.join(__dirname, '..');
const only = process.argv[2];
const groups = only ? [only] : ['unit', 'integration'];
const files = [];
for (const g of groups) {
  const dir = path.join(root, 'dist', 'test', g);
  if (!fs.existsSync(dir)) continue;
  for (const f of fs.readdirSync(dir).sort()) if (f.endsWith('.test.js')) files.push(path.join(dir, f));
}
if (files.length === 0) {
  console.error('no compiled tests found: run `npm run build` first');
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=spec', ...files], {
  stdio: 'inherit',
  cwd: root,
});
process.exit(r.status ?? 1);
