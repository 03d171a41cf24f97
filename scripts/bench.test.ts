import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { expect, test, vi } from 'vitest';
import { type BenchReport, type ComboLevel, parseOptions, printTable } from './bench.ts';

test('bench options: defaults, and bad input named with the fix', () => {
  const o = parseOptions([]);
  expect(o).toMatchObject({
    compare: false,
    levels: [1, 16, 64],
    durationS: 6,
    rounds: 1,
    mode: 'msg',
    store: 'boltdb',
    gid: 'local',
  });
  expect(parseOptions(['--gid', 'dtm']).gid).toBe('dtm');
  expect(() => parseOptions(['--gid', 'uuid'])).toThrow(/--gid uuid: want local or dtm/);
  expect(parseOptions(['--compare']).rounds).toBe(2);
  expect(() => parseOptions(['--store', 'sqlite'])).toThrow(/--store sqlite: want one of boltdb, redis, mysql/);
  expect(() => parseOptions(['--levels', '1,x'])).toThrow(/--levels x: want a number ≥ 1/);
  expect(() => parseOptions(['--mode', 'at'])).toThrow(/--mode at: want one of msg, tcc, saga, xa/);
  expect(parseOptions(['--mode', 'xa', '--levels', '1,4'])).toMatchObject({
    mode: 'xa',
    compare: false,
    levels: [1, 4],
  });
  expect(() => parseOptions(['--duration', '0'])).toThrow(/--duration 0/);
  expect(() => parseOptions(['--etcd', '127.0.0.1:2379'])).toThrow(/--etcd and --dtm go together/);
  expect(() => parseOptions(['--nope'])).toThrow(/Unknown option '--nope'[\s\S]*usage: npm run bench/);
});

test('--compare --mode xa is refused: the Go twins have no XA branches', () => {
  for (const args of [
    ['--compare', '--mode', 'xa'],
    ['--mode', 'xa', '--compare'],
  ])
    expect(() => parseOptions(args)).toThrow(
      /--compare --mode xa: the Go twins .* have no XA branches.*run --mode xa without --compare/,
    );
  // The command itself: at once (before any stack, database or Go build), a clear message, exit status 2.
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [join(import.meta.dirname, 'bench.ts'), '--compare', '--mode', 'xa'], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  expect(r.status, r.stderr).toBe(2);
  expect(r.stderr).toMatch(/^bench: --compare --mode xa: the Go twins \(interop\/gozero\) have no XA branches/);
  expect(r.stderr).not.toMatch(/starting etcd|MariaDB of its own at/);
  expect(r.stdout).toBe('');
  expect(Date.now() - t0).toBeLessThan(20_000);
});

test('the table labels the per-round figures as tx/s, next to the mean', () => {
  const level: ComboLevel = {
    concurrency: 16,
    rounds: [536, 531],
    txPerSec: 533,
    ok: 6400,
    errors: 0,
    errorSamples: [],
    p50Ms: 26.5,
    p95Ms: 58.3,
    p99Ms: 79,
    appCpuMsPerTx: 0.5,
    transCpuMsPerCall: 0.3,
    dtmCpuMsPerTx: 1,
    appRssMiB: 286,
    transRssMiB: 299,
  };
  const report = {
    combos: { ts: 'our app → our trans' },
    levels: [{ concurrency: 16, results: { ts: level } }],
    targets: [],
    load: { before: [1, 1, 1], after: [1, 1, 1] },
  };
  const lines: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((l: string) => lines.push(l));
  try {
    printTable(report as unknown as BenchReport);
  } finally {
    log.mockRestore();
  }
  const [head, , row] = lines;
  expect(head).toMatch(/ tx\/s {2}tx\/s per round {2}p50 ms /);
  expect(head).not.toMatch(/ rounds /);
  // the figures sit under their labels: the per-round ones end where their header does
  expect(row?.indexOf('536/531')).toBe(
    (head?.indexOf('tx/s per round') ?? 0) + 'tx/s per round'.length - '536/531'.length,
  );
});
