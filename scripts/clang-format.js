#!/usr/bin/env node
// Formats (or with --check, verifies) the C of bpf/ and the C++ of native/src
// with clang-format, and the bench's C helpers (bench/native, formatted as
// bpf/ is); each folder has its own .clang-format.
'use strict';
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const check = process.argv.includes('--check');
const files = [];
function walk(dir) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p);
    else if (/\.(c|h|cc)$/.test(e.name)) files.push(p);
  }
}
walk(path.join(root, 'bpf'));
walk(path.join(root, 'native', 'src'));
walk(path.join(root, 'bench', 'native'));
try {
  execFileSync('clang-format', check ? ['--dry-run', '-Werror', ...files] : ['-i', ...files], { stdio: 'inherit' });
} catch (e) {
  if (e.code === 'ENOENT') {
    console.error('clang-format: not found. remedy: apt-get install clang-format (scripts/setup.sh installs it)');
  } else {
    console.error(`clang-format: ${check ? 'files not formatted; run npm run format' : 'failed'}`);
  }
  process.exit(1);
}
