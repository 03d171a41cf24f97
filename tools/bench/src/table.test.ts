import { expect, test } from 'vitest';
import { compareReport, level, logged, rt } from './fixtures.ts';
import type { BenchReport, ComboLevel } from './report.ts';
import { markdownSummary, printTable } from './table.ts';
import { targets } from './targets.ts';

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
  const lines = logged(() => printTable(report as unknown as BenchReport));
  const [head, , row] = lines;
  expect(head).toMatch(/ tx\/s {2}tx\/s per round {2}p50 ms /);
  expect(head).not.toMatch(/ rounds /);
  // the figures sit under their labels: the per-round ones end where their header does
  expect(row?.indexOf('536/531')).toBe(
    (head?.indexOf('tx/s per round') ?? 0) + 'tx/s per round'.length - '536/531'.length,
  );
});

test('the report: like-for-like ratio as the headline, localGid as a labelled row; loop delay, GC and memory beside p99', () => {
  const r = compareReport();
  r.targets = targets(r);
  const lines = logged(() => printTable(r));
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
      // issue #22's tail target (ours and Go's p99 are alike in this report); no bare grpc-js server, no clause on it
      {
        target: "our stack's p99 ≤ 1.2× the Go stack's at concurrency 16 and 64",
        met: true,
        detail: '64: 61.5 vs 61.5 ms (1.00×)',
      },
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
  expect(md).toMatch(
    /our trans from dist\/ \(--conditions=dtm-gozero-dist --max-semi-space-size=4 --max-old-space-size=512\); load/,
  );
  // --app-node-options: the flags our app ran with, named beside trans's.
  r.appNodeArgs = ['--max-old-space-size=512'];
  expect(markdownSummary(r)).toMatch(/--max-old-space-size=512\); our app with --max-old-space-size=512; load/);
});

test("with the Connect row: each client's CPU per transaction against our trans, and each Node stack's over Go's", () => {
  const r = compareReport();
  const l = r.levels[0] as (typeof r.levels)[number];
  r.combos.goTs = 'Go app → our trans';
  r.combos.connect = "our app's calls on Connect's gRPC transport → our trans";
  l.results.goTs = level(900, { appCpuMsPerTx: 0.2 });
  l.results.connect = level(550, { appCpuMsPerTx: 0.5, p99Ms: 70 });
  const out = logged(() => printTable(r)).join('\n');
  expect(out).toMatch(/client CPU per transaction \(the app's CPU per transaction \(NewGid \+ Submit\)/);
  expect(out).toMatch(
    /conc {2}grpc-js ms\/tx {2}Connect ms\/tx {2}Go ms\/tx {2}grpc-js \/ Go {2}Connect \/ Go {2}Connect tx\/s/,
  );
  expect(out).toMatch(/\n64 +0\.400 +0\.500 +0\.200 +2\.00 +2\.50 +550\n/);
  // the row itself, with its throughput and p99, beside the others
  expect(out).toMatch(/our app's calls on Connect's gRPC transport → our trans +64 +550 +550 +20\.0 +40\.0 +70\.0 /);
  const md = markdownSummary(r);
  expect(md).toMatch(
    /\| conc \| grpc-js ms\/tx \| Connect ms\/tx \| Go ms\/tx \| grpc-js \/ Go \| Connect \/ Go \| Connect tx\/s \|/,
  );
  expect(md).toMatch(/\| 64 \| 0\.400 \| 0\.500 \| 0\.200 \| 2\.00 \| 2\.50 \| 550 \|/);
  // without it, no such table
  expect(markdownSummary(compareReport())).not.toMatch(/Client CPU per transaction/);
});

test('with the bare servers: the four branch servers under the Go app side by side, idle and in the targets', () => {
  const r = compareReport();
  const l = r.levels[0] as (typeof r.levels)[number];
  Object.assign(r.combos, {
    goTs: 'Go app → our trans',
    ceiling: 'ceiling: Go app → bare Go server',
    bareNode: 'Go app → bare grpc-js server',
  });
  l.results.goTs = level(900, { transCpuMsPerCall: 0.15, transRssPeakMiB: 131 });
  l.results.bareNode = level(1500, { transCpuMsPerCall: 0.06, transRssPeakMiB: 83, transRuntime: rt(4, 1) });
  l.results.ceiling = level(2500, { transCpuMsPerCall: 0.024, transRssPeakMiB: 21 });
  (l.results.go as ComboLevel).transCpuMsPerCall = 0.09;
  (l.results.ours as ComboLevel).p99Ms = 102.5;
  (l.results.go as ComboLevel).p99Ms = 56.4;
  (l.results.bareNode as ComboLevel).p99Ms = 69.8;
  r.transIdleRssMiB = { ts: 88, go: 35, bareNode: 58, ceiling: 16 };
  r.targets = targets(r);
  const out = logged(() => printTable(r)).join('\n');
  expect(out).toMatch(/branch servers \(each branch server under the Go app: CPU per branch call/);
  // our trans, bare grpc-js, go-zero, bare grpc-go; ours / bare grpc-js; bare grpc-js / bare grpc-go; RSS peaks
  expect(out).toMatch(/\n64 +0\.150 +0\.060 +0\.090 +0\.024 +2\.50 +2\.50 +131 +83 +45 +21\n/);
  expect(out).toMatch(
    /trans RSS idle \(before any load\): ours 88 MiB, go-zero's 35 MiB, the bare grpc-js server 58 MiB, the bare grpc-go server 16 MiB/,
  );
  // the bare grpc-js server is not our trans: its figures do not count against the targets, they are shown beside
  expect(r.targets).toEqual(
    expect.arrayContaining([
      {
        target: "our trans CPU per call ≤ 1.0× go-zero's",
        met: false,
        detail: "64: 0.150 vs 0.090 ms (1.67×); a bare grpc-js server: 0.67× go-zero's trans",
      },
      {
        target: "our stack's p99 ≤ 1.2× the Go stack's at concurrency 16 and 64",
        met: false,
        detail: "64: 102.5 vs 56.4 ms (1.82×); a bare grpc-js server: 1.24× go-zero's trans",
      },
      {
        target: 'our trans RSS ≤ 60 MiB idle',
        met: false,
        detail: "88 MiB (go-zero's trans: 35 MiB; a bare grpc-js server: 58 MiB)",
      },
      {
        target: 'our trans RSS ≤ 100 MiB at concurrency 64',
        met: false,
        detail: "peak 131 MiB (go-zero's trans: 45 MiB; a bare grpc-js server: 83 MiB)",
      },
    ]),
  );
  const md = markdownSummary(r);
  expect(md).toMatch(
    /\| conc \| our trans ms\/call \| bare grpc-js \| go-zero trans \| bare grpc-go \| ours \/ bare grpc-js \|/,
  );
  expect(md).toMatch(/\| 64 \| 0\.150 \| 0\.060 \| 0\.090 \| 0\.024 \| 2\.50 \| 2\.50 \| 131 \| 83 \| 45 \| 21 \|/);
  expect(md).toMatch(/the bare grpc-js server 58 MiB, the bare grpc-go server 16 MiB\./);
  // its probe's figures are in the runtime table, as our trans's are
  expect(md).toMatch(/\| Go app → bare grpc-js server \| 64 \| 69\.8 \| – \| – \| 4\.0 \/ 8\.0 \|/);
  // without it, no such table
  expect(markdownSummary(compareReport())).not.toMatch(/Branch servers/);
});

test('with the Node floor: the Go stack, the floor and ours side by side; the floor beside the throughput and p99 targets', () => {
  const r = compareReport();
  const l = r.levels[0] as (typeof r.levels)[number];
  r.combos.nodeFloor = 'Node floor: bare grpc-js app → bare grpc-js server';
  l.results.nodeFloor = level(720, { appCpuMsPerTx: 0.16, p99Ms: 73.8, appRuntime: rt(9, 2) });
  l.floorRatio = 720 / 800;
  (l.results.go as ComboLevel).appCpuMsPerTx = 0.1;
  (l.results.go as ComboLevel).p99Ms = 56.4;
  (l.results.ours as ComboLevel).p99Ms = 102.5;
  r.targets = targets(r);
  const out = logged(() => printTable(r)).join('\n');
  expect(out).toMatch(/the Node floor \(the same work with no code of ours on either side/);
  // tx/s Go, floor, ours; floor / Go; ours / floor; p99 Go, floor, ours; floor / Go; ours / floor; app CPU Go, floor
  const row = /\n64 +800 +720 +600 +0\.90 +0\.83 +56\.4 +73\.8 +102\.5 +1\.31 +1\.39 +0\.100 +0\.160\n/;
  expect(out).toMatch(row);
  expect(out).toMatch(/Node floor: bare grpc-js app → bare grpc-js server +64 +720 /);
  const md = markdownSummary(r);
  expect(md).toMatch(
    /\| conc \| tx\/s: Go stack \| Node floor \| our stack \| floor \/ Go \| ours \/ floor \| p99 ms: Go stack \|/,
  );
  expect(md).toMatch(
    /\| 64 \| 800 \| 720 \| 600 \| 0\.90 \| 0\.83 \| 56\.4 \| 73\.8 \| 102\.5 \| 1\.31 \| 1\.39 \| 0\.100 \| 0\.160 \|/,
  );
  // the floor is not our stack: the targets are judged on ours and show the floor beside
  const floor = ' the Node floor (a bare grpc-js app → a bare grpc-js server)';
  expect(r.targets).toEqual(
    expect.arrayContaining([
      {
        target:
          "our stack ≥ 1.0× the Go stack's tx/s at every level, like for like (both apps NewGid + Submit) (redis)",
        met: false,
        detail: `64: 0.75×; with localGid: 0.88×;${floor}: 0.90× the Go stack's`,
      },
      {
        target: "our stack's p99 ≤ 1.2× the Go stack's at concurrency 16 and 64",
        met: false,
        detail: `64: 102.5 vs 56.4 ms (1.82×);${floor}: 1.31× the Go stack's`,
      },
    ]),
  );
  // without it, no such table and nothing beside the targets
  const plain = compareReport();
  expect(markdownSummary(plain)).not.toMatch(/Node floor/);
  expect(targets(plain).some((t) => t.detail.includes('Node floor'))).toBe(false);
});
