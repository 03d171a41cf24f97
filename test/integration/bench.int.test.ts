import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BenchReport, COMBO_IDS } from '@dtm-gozero/bench/report';
import { root } from '@dtm-gozero/devkit';
import { testStack } from '@dtm-gozero/devkit/stack';
import { portOpen } from '@dtm-gozero/testkit';
import { expect, test } from 'vitest';

// CI's smoke of `npm run bench -- --compare` (1 s per point, one round), so the command cannot rot: against the
// suite's real etcd + dtm, the four combinations, the ceiling, the bare grpc-js server (registered in etcd by the
// bench), the localGid row, the Connect row and the Node floor (a bare grpc-js app → the bare grpc-js server) each
// complete transactions, our trans (from dist/, with the probe),
// the bare grpc-js server (same flags, same probe) and our apps report event-loop delay, GC and heap, every process
// its RSS peak and every branch server its idle RSS, and the JSON and the chart are written. Figures are not checked here (the machine is shared).
test('npm run bench -- --compare runs all four combinations, the two bare servers, the localGid, Connect and Node floor rows, writes JSON and SVG', () => {
  const { etcdEndpoints, dtmTarget } = testStack();
  const out = join(mkdtempSync(join(tmpdir(), 'bench-smoke-')), 'bench.json');
  const args = ['--compare', '--duration', '1', '--levels', '1,4', '--rounds', '1', '--out', out];
  const r = spawnSync(
    process.execPath,
    ['tools/bench/src/main.ts', ...args, '--etcd', etcdEndpoints.join(','), '--dtm', dtmTarget],
    { cwd: root, encoding: 'utf8', timeout: 170_000 },
  );
  expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
  const report = JSON.parse(readFileSync(out, 'utf8')) as BenchReport;
  expect(report.levels.map((l) => l.concurrency)).toEqual([1, 4]);
  for (const l of report.levels) {
    for (const id of COMBO_IDS) {
      const v = l.results[id];
      expect(v?.ok, `${id} at ${l.concurrency}: ${JSON.stringify(v)}`).toBeGreaterThan(0);
      expect(l.txPerSec[id]).toBeGreaterThan(0);
      expect(v?.p50Ms).toBeGreaterThan(0);
      expect(v?.appCpuMsPerTx).toBeGreaterThan(0);
      expect(v?.appRssPeakMiB, id).toBeGreaterThan(0);
      expect(v?.transRssPeakMiB, id).toBeGreaterThan(0);
      const ourApp = ['ours', 'tsGo', 'oursLocal', 'connect', 'nodeFloor'].includes(id);
      const probed = ['ours', 'goTs', 'bareNode', 'oursLocal', 'connect', 'nodeFloor'].includes(id);
      expect(v?.appRuntime !== undefined && (v.appHeapMiB ?? 0) > 0, `${id}: our app's runtime figures`).toBe(ourApp);
      expect(v?.transRuntime !== undefined && (v.transHeapMiB ?? 0) > 0, `${id}: the server's runtime figures`).toBe(
        probed,
      );
      expect(v?.transCpuMsPerCall, `${id}: the branch server's CPU per call`).toBeGreaterThan(0);
    }
    expect(l.results.ours?.errors, JSON.stringify(l.results.ours?.errorSamples)).toBe(0);
    expect(l.results.connect?.errors, JSON.stringify(l.results.connect?.errorSamples)).toBe(0);
    expect(l.results.nodeFloor?.errors, JSON.stringify(l.results.nodeFloor?.errorSamples)).toBe(0);
    expect(l.floorRatio).toBeCloseTo((l.txPerSec.nodeFloor as number) / (l.txPerSec.go as number), 6);
    expect(l.ratio).toBeCloseTo((l.txPerSec.ours as number) / (l.txPerSec.go as number), 6);
    expect(l.localRatio).toBeCloseTo((l.txPerSec.oursLocal as number) / (l.txPerSec.go as number), 6);
  }
  expect(report.gid).toBe('dtm');
  expect(report.trans?.source).toBe('dist');
  expect(report.transIdleRssMiB?.ts).toBeGreaterThan(0);
  expect(report.transIdleRssMiB?.go).toBeGreaterThan(0);
  expect(report.transIdleRssMiB?.bareNode).toBeGreaterThan(20);
  expect(report.transIdleRssMiB?.ceiling).toBeGreaterThan(0);
  expect(report.targets.map((t) => t.target)).toContain('0 failed transactions at every level (our stack)');
  const svg = out.replace(/\.json$/, '.svg');
  expect(existsSync(svg)).toBe(true);
  const chart = readFileSync(svg, 'utf8');
  expect(chart).toMatch(/^<svg /);
  expect(chart.match(/<rect x=/g)?.length).toBeGreaterThanOrEqual(18); // 9 bars × 2 levels
  expect(r.stdout).toMatch(/client CPU per transaction/);
  expect(r.stdout).toMatch(/branch servers \(each branch server under the Go app/);
  expect(r.stdout).toMatch(/TS \/ Go \(tx\/s\), like for like/);
  expect(r.stdout).toMatch(/where the tail goes, and memory/);
  expect(r.stdout).toMatch(/the Node floor \(the same work with no code of ours on either side/);
}, 180_000);

// `--mode xa` (our stack only): the bench starts a MariaDB of its own for trans's bank, funds each loop's accounts,
// and every XA transfer (TransOutXa + TransInXa, committed by dtm) completes.
test('npm run bench -- --mode xa runs XA transfers against our trans with a bank of its own, 0 errors', () => {
  const { etcdEndpoints, dtmTarget } = testStack();
  const out = join(mkdtempSync(join(tmpdir(), 'bench-xa-')), 'bench.json');
  const args = ['--mode', 'xa', '--duration', '1', '--levels', '1,4', '--out', out];
  const r = spawnSync(
    process.execPath,
    ['tools/bench/src/main.ts', ...args, '--etcd', etcdEndpoints.join(','), '--dtm', dtmTarget],
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

// On a stack of its own (no --etcd/--dtm): the testkit's etcd + dtm on free ports, with --store redis a Redis of
// the bench's own (the testkit's startDatabases); dtm's CPU is measured (its process found in /proc), and the
// Redis no longer answers when the command returns.
test('npm run bench -- --store redis runs on an etcd + dtm + Redis of its own, soaks our trans, and stops them', async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'bench-redis-')), 'bench.json');
  const args = ['--store', 'redis', '--duration', '1', '--levels', '1', '--trans', 'src', '--soak', '24', '--out', out];
  const r = spawnSync(process.execPath, ['tools/bench/src/main.ts', ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 140_000,
  });
  expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
  const port = Number(/redis of its own at 127\.0\.0\.1:(\d+)/.exec(r.stderr)?.[1]);
  expect(port, r.stderr).toBeGreaterThan(0);
  const report = JSON.parse(readFileSync(out, 'utf8')) as BenchReport;
  expect(report.store).toBe('redis');
  const v = report.levels[0]?.results.ours;
  expect(v?.ok, JSON.stringify(v)).toBeGreaterThan(0);
  expect(v?.errors, JSON.stringify(v?.errorSamples)).toBe(0);
  expect(v?.dtmCpuMsPerTx).toBeGreaterThan(0);
  // The soak follows our trans: its heap after a full GC at both ends, its RSS once a second, and a verdict on it.
  const t = report.soak?.trans;
  expect(report.soak?.tx, JSON.stringify(report.soak)).toBeGreaterThan(0);
  expect(t?.heapStartMiB).toBeGreaterThan(1);
  expect(t?.heapEndMiB).toBeGreaterThan(1);
  expect(t?.rssMiB.length).toBeGreaterThanOrEqual(20);
  expect(Math.min(...(t?.rssMiB ?? [0]))).toBeGreaterThan(30);
  expect(report.targets.find((x) => x.target.startsWith('our trans stays flat'))?.detail).toMatch(/samples\)$/);
  expect(readFileSync(out.replace(/\.json$/, '-soak.svg'), 'utf8')).toContain('<polyline points=');
  expect(await portOpen(port)).toBe(false);
}, 150_000);

// `--client connect` on a stack of the bench's own (etcd + dtm on free ports): the same NewGid + msg Submit as our
// app's like-for-like row, through Connect's gRPC transport; dtm answers Submit (WaitResult) only once both branches
// of our trans succeeded, so every transaction counted ok ran TransOut and TransIn.
test('npm run bench -- --client connect: msg transactions through Connect against our trans all succeed', () => {
  const out = join(mkdtempSync(join(tmpdir(), 'bench-connect-')), 'bench.json');
  const args = ['--client', 'connect', '--duration', '1', '--levels', '1,4', '--trans', 'src', '--out', out];
  const r = spawnSync(process.execPath, ['tools/bench/src/main.ts', ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 110_000,
  });
  expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
  const report = JSON.parse(readFileSync(out, 'utf8')) as BenchReport;
  expect(report.client).toBe('connect');
  expect(report.gid).toBe('dtm');
  expect(report.combos).toEqual({ ours: "our app's calls on Connect's gRPC transport → our trans" });
  for (const l of report.levels) {
    const v = l.results.ours;
    expect(v?.ok, `at ${l.concurrency}: ${JSON.stringify(v)}`).toBeGreaterThan(0);
    expect(v?.errors, JSON.stringify(v?.errorSamples)).toBe(0);
    expect(v?.appCpuMsPerTx).toBeGreaterThan(0);
    expect(v?.transCpuMsPerCall).toBeGreaterThan(0); // trans served the branches
  }
}, 120_000);
