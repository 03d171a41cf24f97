import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { root } from '@dtm-gozero/devkit';
import { expect, test } from 'vitest';
import { testFilesOf, verdict } from './flaky.ts';

// The flaky-test finder (npm run flaky): which files it reruns, how it judges the runs, and a real run of it.
test('it reruns the changed test files, each once', () => {
  expect(
    testFilesOf(['scripts/chaos.ts', 'b.int.test.ts', 'a.test.ts', ' a.test.ts', 'README.md', 'b.int.test.ts', '']),
  ).toEqual(['a.test.ts', 'b.int.test.ts']);
});

test('a file that failed in one run of three is flaky, and the whole verdict fails', () => {
  const v = verdict(['a.test.ts', 'b.test.ts'], [new Set(), new Set(['b.test.ts']), new Set()]);
  expect(v).toEqual({ ok: false, lines: ['stable 3/3  a.test.ts', 'FLAKY  2/3  b.test.ts'] });
  expect(verdict(['a.test.ts'], [new Set(), new Set()]).ok).toBe(true);
});

test('npm run flaky runs a file three times and reports it stable', () => {
  const r = spawnSync('npm', ['run', '--silent', 'flaky', '--', 'scripts/proto-gen.test.ts'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120_000,
  });
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout).toMatch(/run 3\/3: all passed/);
  expect(r.stdout).toMatch(/^stable 3\/3 {2}scripts\/proto-gen\.test\.ts$/m);
}, 150_000);

test('a bad --times is named', () => {
  const r = spawnSync(process.execPath, [join(root, 'scripts/flaky.ts'), '--times', '0'], { encoding: 'utf8' });
  expect(r.status).toBe(2);
  expect(r.stderr).toMatch(/--times "0" is not a whole number from 1 to 20/);
});
