import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pidAlive, root, runNode } from '@dtm-gozero/devkit';
import { testStack } from '@dtm-gozero/devkit/stack';
import { afterAll, expect, test } from 'vitest';

// A SIGINT sent to the bench's pid alone (`kill -INT <pid>`, not a terminal's Ctrl-C to the whole group) stops
// what the bench started — our trans and our worker — and the bench exits 130, within a bound.
const started: number[] = [];
afterAll(() => {
  for (const pid of started) if (pidAlive(pid)) process.kill(pid, 'SIGKILL');
});

/** The pids of `pid`'s children. */
const childrenOf = (pid: number): number[] =>
  spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter((l) => l !== '')
    .map(Number);

test('kill -INT <bench pid> mid-level stops its trans and worker, and the bench exits 130', async () => {
  const { etcdEndpoints, dtmTarget } = testStack();
  const out = join(mkdtempSync(join(tmpdir(), 'bench-signal-')), 'bench.json');
  const bench = runNode(
    'tools/bench/src/main.ts',
    ['--mode', 'xa', '--trans', 'src', '--duration', '30', '--levels', '1', '--rounds', '1', '--out', out].concat([
      '--etcd',
      etcdEndpoints.join(','),
      '--dtm',
      dtmTarget,
    ]),
    root,
  );
  const pid = bench.child.pid as number;
  started.push(pid);
  // The first measured level: trans and the worker are up and busy.
  await bench.waitFor(/concurrency 1, round 1\/1/, 120_000);
  const kids = childrenOf(pid);
  started.push(...kids);
  expect(kids.length, 'trans and the worker run as children of the bench').toBeGreaterThanOrEqual(2);

  process.kill(pid, 'SIGINT');
  const code = await bench.exited(60_000);
  const left = kids.filter(pidAlive);
  expect(left, `children still running after the bench exited: ${left.join(', ')}`).toEqual([]);
  expect(code).toBe(130);
  expect(bench.stderr()).toMatch(/bench: SIGINT: stopping what it started/);
}, 200_000);
