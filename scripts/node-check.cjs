// The npm scripts' preflight (`node --require ./scripts/node-check.cjs …`, or run on its own): on a Node older than
// package.json's `engines`, one line saying how to get a newer one, instead of Node's own stack trace
// (ERR_UNKNOWN_FILE_EXTENSION for the .ts entry points). CommonJS without newer syntax, so that an old Node runs it.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8'));
const want = pkg.engines?.node || '>=22.12';
const min = (/(\d+)\.(\d+)/.exec(want) || [0, 22, 12]).slice(1, 3).map(Number);
const have = process.versions.node.split('.').map(Number);
const script = process.env.npm_lifecycle_event ? `npm run ${process.env.npm_lifecycle_event}` : 'this command';

if (have[0] < min[0] || (have[0] === min[0] && have[1] < min[1])) {
  process.stderr.write(
    `${script}: Node ${process.version} is older than the ${min.join('.')} this project needs; run ` +
      '`source scripts/ensure-node.sh` in this shell (it puts Node 24 first on PATH), then run the command again\n',
  );
  process.exit(1);
}
