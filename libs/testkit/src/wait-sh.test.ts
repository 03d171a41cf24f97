import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';

// scripts/wait.sh: the one bounded wait and bounded stop that db.sh and the repository's shell operations source.
const WAIT_SH = join(import.meta.dirname, '..', 'scripts', 'wait.sh');

function sh(script: string): { status: number | null; stdout: string; stderr: string; ms: number } {
  const t0 = Date.now();
  const r = spawnSync('bash', ['-c', `set -euo pipefail; source ${JSON.stringify(WAIT_SH)}; ${script}`], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - t0 };
}

test('wait_up: 0 once the check passes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wait-sh-'));
  const flag = join(dir, 'ready');
  const r = sh(
    `(sleep 0.5; touch ${flag}) & sleep 30 & wait_up "t: srv" $! 10 /dev/null test -e ${flag}; echo rc=$?; kill $!`,
  );
  expect(r.stdout).toContain('rc=0');
  expect(r.ms).toBeLessThan(10_000);
});

test('wait_up: 1 with the last lines of the log when the process exits first', () => {
  const log = join(mkdtempSync(join(tmpdir(), 'wait-sh-')), 'srv.log');
  writeFileSync(log, 'starting\nbind: address already in use\n');
  const r = sh(`sleep 0.3 & rc=0; wait_up "t: srv" $! 10 ${log} false || rc=$?; echo rc=$rc`);
  expect(r.stdout).toContain('rc=1');
  expect(r.stderr).toBe(
    `t: srv exited during start-up; last lines of ${log}:\nstarting\nbind: address already in use\n`,
  );
});

test('wait_up: 2 after the bound, naming it and the log', () => {
  const r = sh('sleep 30 & p=$!; rc=0; wait_up "t: srv" $p 1 /tmp/srv.log false || rc=$?; kill $p; echo rc=$rc');
  expect(r.stdout).toContain('rc=2');
  expect(r.stderr).toBe('t: srv did not answer within 1s; see /tmp/srv.log\n');
  expect(r.ms).toBeLessThan(10_000);
});

test('stop_pid: SIGKILL after the bound when the signal is ignored; 1 when nothing runs', () => {
  const r = sh(
    `bash -c 'trap "" TERM; while :; do sleep 0.1; done' & p=$!; sleep 0.3; stop_pid $p TERM 1; echo stopped=$?;` +
      ` wait $p 2>/dev/null || true; rc=0; stop_pid $p TERM 1 || rc=$?; echo again=$rc`,
  );
  expect(r.stdout).toContain('stopped=0');
  expect(r.stdout).toContain('again=1');
  expect(r.ms).toBeLessThan(10_000);
});
