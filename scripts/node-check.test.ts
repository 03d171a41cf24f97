// A second terminal that did not `source scripts/ensure-node.sh` runs the machine's old Node: every npm script that
// needs Node >= 22.12 must say so in one line naming the fix, not die in Node's ERR_UNKNOWN_FILE_EXTENSION stack trace.
// Runs the real scripts through npm with an old Node first on PATH (Debian's /usr/bin/node, v20 here); each stops
// at the preflight, before anything starts.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { root } from '@dtm-gozero/devkit';
import { expect, test } from 'vitest';

const scripts = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> })
  .scripts;
/** Scripts that run our TypeScript (or vitest) under Node: these need the new Node. The rest are bash or binaries. */
const needsNode = Object.keys(scripts).filter((k) => /\bnode\b|\bvitest\b/.test(scripts[k] as string));

const OLD_NODE = '/usr/bin/node';
const oldVersion = existsSync(OLD_NODE) ? spawnSync(OLD_NODE, ['--version'], { encoding: 'utf8' }).stdout.trim() : '';
const old = /^v(\d+)\.(\d+)/.exec(oldVersion);
const isOld = old !== null && (Number(old[1]) < 22 || (Number(old[1]) === 22 && Number(old[2]) < 12));

test('every script that runs Node starts with the preflight', () => {
  expect(needsNode).toEqual(expect.arrayContaining(['app', 'trans', 'start', 'chaos', 'bench', 'test']));
  for (const k of needsNode) {
    expect(scripts[k], `script "${k}"`).toMatch(
      /^node (--require \.\/scripts\/node-check\.cjs |scripts\/node-check\.cjs && )/,
    );
  }
});

test.skipIf(!isOld)(
  `on ${oldVersion || 'an old Node'}, each prints one line naming source scripts/ensure-node.sh`,
  () => {
    // The old Node and the machine's npm first on PATH, as in a fresh terminal (no .cache/node).
    const PATH = [
      '/usr/bin',
      '/bin',
      ...(process.env.PATH ?? '').split(':').filter((d) => !d.includes('.cache/node')),
    ].join(':');
    for (const k of needsNode) {
      const r = spawnSync('npm', ['run', k], {
        cwd: root,
        env: { ...process.env, PATH },
        encoding: 'utf8',
        timeout: 60_000,
      });
      const ours = r.stderr.split('\n').filter((l) => l.includes('source scripts/ensure-node.sh'));
      expect(r.status, `npm run ${k}: ${r.stderr}`).not.toBe(0);
      expect(ours, `npm run ${k}: ${r.stderr}`).toEqual([
        `npm run ${k}: Node ${oldVersion} is older than the 22.12 this project needs; run \`source scripts/ensure-node.sh\` in this shell (it puts Node 24 first on PATH), then run the command again`,
      ]);
      expect(r.stderr, `npm run ${k}`).not.toMatch(/ERR_UNKNOWN_FILE_EXTENSION|^\s+at /m);
    }
  },
  300_000,
);
