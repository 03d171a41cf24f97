import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect, test, vi } from 'vitest';
import {
  type BenchReport,
  type ComboLevel,
  mergeRuntime,
  PROD_NODE_ARGS,
  parseOptions,
  printTable,
  probeScript,
  TransProbe,
  targets,
} from './bench.ts';
import { markdownSummary } from './lib/bench-chart.ts';
import { fullGc, type RuntimeStats, runtimeMonitor } from './lib/bench-probe.ts';
import { root, tempFile } from './lib/child.ts';

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

test('--compare is like for like (NewGid) with a localGid row, so --gid goes with it no more; --trans dist by default', () => {
  expect(parseOptions(['--compare'])).toMatchObject({ gid: 'dtm', trans: 'dist', transNodeOptions: [] });
  expect(() => parseOptions(['--compare', '--gid', 'local'])).toThrow(
    /--compare --gid local: --compare runs both \(NewGid \+ Submit as its headline, localGid as a labelled row\); drop --gid/,
  );
  expect(parseOptions(['--trans', 'src', '--trans-node-options=--max-semi-space-size=16 --trace-gc'])).toMatchObject({
    trans: 'src',
    transNodeOptions: ['--max-semi-space-size=16', '--trace-gc'],
  });
  expect(() => parseOptions(['--trans', 'js'])).toThrow(/--trans js: want dist or src/);
});

test('production runs trans with the flags the bench measures: package.json trans:prod and the Dockerfile agree', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  expect(pkg.scripts['trans:prod']).toContain(`${PROD_NODE_ARGS.join(' ')} apps/trans/dist/trans.js`);
  const cmd = /^CMD (\[.*"apps\/trans\/dist\/trans\.js".*\])$/m.exec(readFileSync(join(root, 'Dockerfile'), 'utf8'));
  expect(cmd, 'the Dockerfile starts apps/trans/dist/trans.js').not.toBeNull();
  expect(JSON.parse(cmd?.[1] as string)).toEqual([
    'node',
    ...PROD_NODE_ARGS,
    'apps/trans/dist/trans.js',
    '-f',
    'apps/trans/etc/trans.yaml',
  ]);
});

const rt = (p99: number, gcMax: number): RuntimeStats => ({
  loopP50Ms: 1,
  loopP99Ms: p99,
  loopMaxMs: p99 * 2,
  gcCount: 3,
  gcTotalMs: 6,
  gcMaxMs: gcMax,
});

function level(txPerSec: number, extra: Partial<ComboLevel> = {}): ComboLevel {
  return {
    concurrency: 64,
    rounds: [txPerSec],
    txPerSec,
    ok: 100,
    errors: 0,
    errorSamples: [],
    p50Ms: 20,
    p95Ms: 40,
    p99Ms: 61.5,
    appCpuMsPerTx: 0.4,
    transCpuMsPerCall: 0.25,
    dtmCpuMsPerTx: 1,
    appRssMiB: 120,
    transRssMiB: 90,
    ...extra,
  };
}

/** A --compare report at concurrency 64: ours 600 tx/s like for like, 700 with localGid, Go 800. */
function compareReport(): BenchReport {
  const ours = level(600, {
    appRuntime: rt(12.5, 7.25),
    transRuntime: rt(8.5, 3.5),
    appRssPeakMiB: 131,
    transRssPeakMiB: 97,
    appHeapMiB: 18.75,
    transHeapMiB: 15.25,
  });
  return {
    command: 'npm run bench -- --compare',
    date: '2026-01-01T00:00:00Z',
    machine: { cpus: 2, cpuModel: 'x', memGiB: 8, node: 'v24', go: 'go1' },
    load: { before: [1, 1, 1], after: [1, 1, 1], note: '' },
    store: 'redis',
    mode: 'msg',
    gid: 'dtm',
    trans: { source: 'dist', nodeArgs: PROD_NODE_ARGS },
    transIdleRssMiB: { ts: 79, go: 42 },
    durationS: 6,
    rounds: 2,
    combos: {
      ours: 'our app → our trans',
      go: 'Go app → go-zero trans',
      oursLocal: 'our app (localGid) → our trans',
    },
    levels: [
      {
        concurrency: 64,
        txPerSec: { ours: 600, go: 800, oursLocal: 700 },
        ratio: 0.75,
        localRatio: 0.875,
        results: { ours, go: level(800, { transRssPeakMiB: 45 }), oursLocal: level(700, { transRssPeakMiB: 99 }) },
      },
    ],
    targets: [],
  };
}

test('the report: like-for-like ratio as the headline, localGid as a labelled row; loop delay, GC and memory beside p99', () => {
  const r = compareReport();
  r.targets = targets(r);
  const lines: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((l: string) => lines.push(l));
  try {
    printTable(r);
  } finally {
    log.mockRestore();
  }
  const out = lines.join('\n');
  expect(out).toMatch(/TS \/ Go \(tx\/s\), like for like \(both apps NewGid \+ Submit\), and our app with localGid/);
  expect(out).toMatch(/conc {2}whole stack {2}localGid row/);
  expect(out).toMatch(/\n {4}64 {9}0\.75 {10}0\.88 /);
  // the runtime table: our row carries its figures, the Go row dashes where Go has none
  const row = lines.find((l) => l.startsWith('our app → our trans ') && l.includes('12.5 / 25.0'));
  expect(row).toMatch(
    /61\.5 +12\.5 \/ 25\.0 +3× 6 ms \(7\.3\) +8\.5 \/ 17\.0 +3× 6 ms \(3\.5\) +131 +97 +18\.8 +15\.3$/,
  );
  expect(lines.find((l) => l.startsWith('Go app → go-zero trans ') && l.includes(' – '))).toBeDefined();
  expect(out).toMatch(/trans RSS idle \(before any load\): ours 79 MiB, go-zero's 42 MiB/);
  // targets: the headline is like for like; memory against 60 MiB idle and 100 MiB at 64 (worst of our trans's rows)
  expect(r.targets).toEqual(
    expect.arrayContaining([
      {
        target:
          "our stack ≥ 1.0× the Go stack's tx/s at every level, like for like (both apps NewGid + Submit) (redis)",
        met: false,
        detail: '64: 0.75×; with localGid: 0.88×',
      },
      { target: 'our trans RSS ≤ 60 MiB idle', met: false, detail: "79 MiB (go-zero's trans: 42 MiB)" },
      {
        target: 'our trans RSS ≤ 100 MiB at concurrency 64',
        met: true,
        detail: "peak 99 MiB (go-zero's trans: 45 MiB)",
      },
    ]),
  );
  const md = markdownSummary(r);
  expect(md).toMatch(/\| TS\/Go whole stack, like for like \(both apps NewGid \+ Submit\) \| our app with localGid/);
  expect(md).toMatch(/\| 64 \| 0\.75 \| 0\.88 \|/);
  expect(md).toMatch(/\| our app → our trans \| 64 \| 61\.5 \| 12\.5 \/ 25\.0 \| 3× 6 ms \(7\.3\) \|/);
  expect(md).toMatch(/our trans from dist\/ \(--conditions=dtm-gozero-dist --max-semi-space-size=1\)/);
});

test('rounds merge: the worst delay, GC pauses summed', () => {
  expect(mergeRuntime(undefined, rt(5, 1))).toEqual(rt(5, 1));
  expect(mergeRuntime(rt(5, 1), rt(9, 0.5))).toEqual({
    loopP50Ms: 1,
    loopP99Ms: 9,
    loopMaxMs: 18,
    gcCount: 6,
    gcTotalMs: 12,
    gcMaxMs: 1,
  });
});

test('runtimeMonitor sees a blocked event loop and a GC pause, and reset() starts afresh', async () => {
  const m = runtimeMonitor();
  try {
    await new Promise((r) => setTimeout(r, 50));
    m.reset();
    await new Promise((r) => setTimeout(r, 25)); // the histogram drops the first interval after a reset
    const until = Date.now() + 150;
    while (Date.now() < until); // the loop blocked for 150 ms
    fullGc();
    await new Promise((r) => setTimeout(r, 50)); // gc entries and the next timer arrive
    const s = m.snapshot();
    expect(s.loopMaxMs).toBeGreaterThanOrEqual(100);
    expect(s.loopP50Ms).toBeLessThan(s.loopMaxMs); // the delay, less the timer's own 10 ms
    expect(s.gcCount).toBeGreaterThanOrEqual(1);
    expect(s.gcMaxMs).toBeGreaterThan(0);
    m.reset();
    expect(m.snapshot()).toMatchObject({ gcCount: 0, gcTotalMs: 0 });
  } finally {
    m.stop();
  }
});

test('the trans probe (as the bench loads it: emitted JavaScript, --import) answers SIGUSR2 with its figures', async () => {
  const file = tempFile('runtime.json', '{"seq":0}');
  // A stand-in for trans's event loop only (the real trans under the probe: test/integration/bench.int.test.ts).
  const child = spawn(
    process.execPath,
    ['--import', pathToFileURL(probeScript()).href, '-e', 'setInterval(() => {}, 1000); console.log("up")'],
    { env: { ...process.env, BENCH_PROBE_FILE: file }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout.once('data', () => resolve());
      child.once('exit', (c) => reject(new Error(`exited ${c}`)));
    });
    const probe = new TransProbe(child.pid as number, file);
    const first = await probe.snapshot(15_000);
    const second = await probe.snapshot(15_000);
    expect(first.seq).toBe(1);
    expect(second.seq).toBe(2);
    expect(second.heapAfterGcMiB).toBeGreaterThan(0);
    expect(second.heapAfterGcMiB).toBeLessThan(64);
    // the forced GC of the first snapshot is not counted in the second window
    expect(second.gcMaxMs).toBeLessThan(first.gcMaxMs + 1000);
    expect(Object.keys(second).sort()).toEqual(
      ['gcCount', 'gcMaxMs', 'gcTotalMs', 'heapAfterGcMiB', 'loopMaxMs', 'loopP50Ms', 'loopP99Ms', 'seq'].sort(),
    );
  } finally {
    child.kill('SIGKILL');
  }
});
