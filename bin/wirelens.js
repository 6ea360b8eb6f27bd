#!/usr/bin/env node
'use strict';
const path = require('node:path');
const fs = require('node:fs');
const main = path.join(__dirname, '..', 'dist', 'src', 'cli', 'main.js');
if (!fs.existsSync(main)) {
  process.stderr.write(
    'wirelens: not built yet. remedy: run `bash scripts/setup.sh` (or `npm run build`) in ' +
      path.join(__dirname, '..') +
      '\n',
  );
  process.exit(1);
}
// capture: V8's heap settings that must precede loading the program (src/cli/heap.ts, holdStartHeap).
if (process.argv[2] === 'capture') require(path.join(__dirname, '..', 'dist', 'src', 'cli', 'heap.js')).holdStartHeap();
require(main).main(process.argv.slice(2));
