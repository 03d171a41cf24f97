import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import type { BenchReport } from '../../scripts/bench.ts';
import { root } from '../support/procs.ts';
import { testStack } from '../support/stack-context.ts';

// CI's smoke of `npm run bench -- --compare` (2 s per point, one round), so the command cannot rot: against the
// suite's real etcd + dtm, the four combinations and the ceiling each complete transactions, and the JSON and the
// chart are written. Figures are not checked here (the machine is shared); the targets are read in the output.
test('npm run bench -- --compare runs all four combinations and the ceiling, writes JSON and SVG', () => {
  const { etcdEndpoints, dtmTarget } = testStack();
  const out = join(mkdtempSync(join(tmpdir(), 'bench-smoke-')), 'bench.json');
  const args = ['--compare', '--duration', '2', '--levels', '1,4', '--rounds', '1', '--out', out];
  const r = spawnSync(
    process.execPath,
    ['scripts/bench.ts', ...args, '--etcd', etcdEndpoints.join(','), '--dtm', dtmTarget],
    { cwd: root, encoding: 'utf8', timeout: 170_000 },
  );
  expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
  const report = JSON.parse(readFileSync(out, 'utf8')) as BenchReport;
  expect(report.levels.map((l) => l.concurrency)).toEqual([1, 4]);
  for (const l of report.levels) {
    for (const id of ['ours', 'go', 'tsGo', 'goTs', 'ceiling'] as const) {
      const v = l.results[id];
      expect(v?.ok, `${id} at ${l.concurrency}: ${JSON.stringify(v)}`).toBeGreaterThan(0);
      expect(l.txPerSec[id]).toBeGreaterThan(0);
      expect(v?.p50Ms).toBeGreaterThan(0);
      expect(v?.appCpuMsPerTx).toBeGreaterThan(0);
    }
    expect(l.results.ours?.errors, JSON.stringify(l.results.ours?.errorSamples)).toBe(0);
    expect(l.ratio).toBeCloseTo((l.txPerSec.ours as number) / (l.txPerSec.go as number), 6);
  }
  expect(report.targets.map((t) => t.target)).toContain('0 failed transactions at every level (our stack)');
  const svg = out.replace(/\.json$/, '.svg');
  expect(existsSync(svg)).toBe(true);
  const chart = readFileSync(svg, 'utf8');
  expect(chart).toMatch(/^<svg /);
  expect(chart.match(/<rect x=/g)?.length).toBeGreaterThanOrEqual(10); // 5 bars × 2 levels
  expect(r.stdout).toMatch(/TS \/ Go \(tx\/s\)/);
}, 180_000);

// `--mode xa` (our stack only): the bench starts a MariaDB of its own for trans's bank, funds each loop's accounts,
// and every XA transfer (TransOutXa + TransInXa, committed by dtm) completes.
test('npm run bench -- --mode xa runs XA transfers against our trans with a bank of its own, 0 errors', () => {
  const { etcdEndpoints, dtmTarget } = testStack();
  const out = join(mkdtempSync(join(tmpdir(), 'bench-xa-')), 'bench.json');
  const args = ['--mode', 'xa', '--duration', '1', '--levels', '1,4', '--out', out];
  const r = spawnSync(
    process.execPath,
    ['scripts/bench.ts', ...args, '--etcd', etcdEndpoints.join(','), '--dtm', dtmTarget],
    { cwd: root, encoding: 'utf8', timeout: 110_000 },
  );
  expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
  expect(r.stderr).toMatch(/xa: MariaDB of its own at 127\.0\.0\.1:\d+/);
  const report = JSON.parse(readFileSync(out, 'utf8')) as BenchReport;
  expect(report.mode).toBe('xa');
  expect(Object.keys(report.combos)).toEqual(['ours']);
  expect(report.levels.map((l) => l.concurrency)).toEqual([1, 4]);
  for (const l of report.levels) {
    const v = l.results.ours;
    expect(v?.ok, `at ${l.concurrency}: ${JSON.stringify(v)}`).toBeGreaterThan(0);
    expect(v?.txPerSec).toBeGreaterThan(0);
    expect(v?.errors, JSON.stringify(v?.errorSamples)).toBe(0);
    expect(v?.transCpuMsPerCall).toBeGreaterThan(0);
  }
  // The bench's database is gone with it (its data dir removed, its server stopped).
  const dir = /data in (\S+)\)/.exec(r.stderr)?.[1] as string;
  expect(existsSync(dir)).toBe(false);
}, 120_000);
