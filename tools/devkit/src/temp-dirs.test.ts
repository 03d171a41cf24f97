import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { expect, test } from 'vitest';
import { reapTempDirs, tempFile } from './procs.ts';

// About 80 dtm-gozero-* temp dirs piled up after a few test runs: tempFile (every config a test writes) made a dir
// per file and nobody removed it. Its dirs now name their owner, and the integration run's setup and teardown reap
// those whose owner is gone.
test('tempFile’s dir names this process', () => {
  const f = tempFile('x.yaml', 'a: 1\n');
  try {
    expect(basename(dirname(f))).toMatch(new RegExp(`^dtm-gozero-test-${process.pid}-`));
  } finally {
    rmSync(dirname(f), { recursive: true, force: true });
  }
});

test('the reaper removes the temp dirs of gone processes and keeps those of live ones', () => {
  const root = mkdtempSync(join(tmpdir(), 'reap-temp-dirs-'));
  try {
    const gone = spawnSync('true').pid as number; // exited and reaped: its pid names no process now
    const dirs = {
      goneTest: join(root, `dtm-gozero-test-${gone}-abc`),
      goneScript: join(root, `dtm-gozero-${gone}-abc`),
      live: join(root, `dtm-gozero-test-${process.pid}-abc`),
      dbRun: join(root, 'dtm-gozero-test-db-abc'), // the databases' reaper judges these (owner.pid inside)
      other: join(root, 'something-else'),
    };
    for (const d of Object.values(dirs)) mkdirSync(d);
    expect(reapTempDirs(root)).toBe(2);
    expect(Object.fromEntries(Object.entries(dirs).map(([k, d]) => [k, existsSync(d)]))).toEqual({
      goneTest: false,
      goneScript: false,
      live: true,
      dbRun: true,
      other: true,
    });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
