import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempFile } from '@dtm-gozero/devkit';
import { expect, test } from 'vitest';
import { compareReport } from './fixtures.ts';
import type { BenchReport } from './report.ts';

const MAIN = join(import.meta.dirname, 'main.ts');

test('--compare --mode xa: the command refuses at once (before any stack, database or Go build), exit status 2', () => {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [MAIN, '--compare', '--mode', 'xa'], { encoding: 'utf8', timeout: 30_000 });
  expect(r.status, r.stderr).toBe(2);
  expect(r.stderr).toMatch(/^bench: --compare --mode xa: the Go twins \(interop\/gozero\) have no XA branches/);
  expect(r.stderr).not.toMatch(/starting etcd|MariaDB of its own at/);
  expect(r.stdout).toBe('');
  expect(Date.now() - t0).toBeLessThan(20_000);
});

test('--help prints the usage with every option and exits 2, starting nothing', () => {
  const r = spawnSync(process.execPath, [MAIN, '--help'], { encoding: 'utf8', timeout: 30_000 });
  expect(r.status, r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  for (const option of ['--compare', '--levels', '--duration', '--rounds', '--mode', '--store', '--out', '--soak'])
    expect(r.stderr).toContain(option);
  for (const option of ['--cpu-prof', '--gid', '--trans', '--trans-node-options', '--etcd', '--dtm', '--render'])
    expect(r.stderr).toContain(option);
  expect(r.stderr).not.toMatch(/starting etcd/);
});

test('--render FILE.json: no run; the targets worked out again, the chart and the table written next to it', () => {
  const json = tempFile('bench.json', JSON.stringify(compareReport()));
  const r = spawnSync(process.execPath, [MAIN, '--render', json], { encoding: 'utf8', timeout: 30_000 });
  expect(r.status, r.stderr).toBe(0);
  const base = json.replace(/\.json$/, '');
  expect(r.stdout.trim()).toBe(`wrote ${json}, ${base}.svg, ${base}.md`);
  const report = JSON.parse(readFileSync(json, 'utf8')) as BenchReport;
  expect(report.targets.map((t) => t.target)).toContain('our trans RSS ≤ 60 MiB idle');
  expect(readFileSync(`${base}.svg`, 'utf8')).toMatch(/^<svg /);
  expect(readFileSync(`${base}.md`, 'utf8')).toMatch(/^`npm run bench -- --compare` — /);
  expect(r.stderr).toBe('');
});
