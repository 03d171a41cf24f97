// The report as tables: on the terminal (printTable) and in Markdown next to the JSON (markdownSummary, what
// docs/performance.md shows).
import type { RuntimeStats } from './probe.ts';
import { type BenchReport, type ComboLevel, rssTrend } from './report.ts';

/** A figure with `digits` decimals, or '–' where there is none (a Go process has no heap figure, a round no CPU). */
export const fixed = (v: number | undefined, digits: number): string =>
  v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits);

/** a / b with two decimals, or '–' where either is missing (or zero). */
export const over = (a: number | undefined, b: number | undefined): string => (a && b ? fixed(a / b, 2) : '–');

export const RUNTIME_NOTE =
  "loop: event-loop delay p99 / max ms; gc: pauses, their total ms (the longest); Node processes only (– for Go); RSS peak during the level and V8 heap after a full GC, MiB; app and trans: the row's load generator and branch server (in the bare rows, the bare ones)";

const loop = (x: RuntimeStats | undefined): string => (x ? `${fixed(x.loopP99Ms, 1)} / ${fixed(x.loopMaxMs, 1)}` : '–');
const gc = (x: RuntimeStats | undefined): string =>
  x ? `${x.gcCount}× ${fixed(x.gcTotalMs, 0)} ms (${fixed(x.gcMaxMs, 1)})` : '–';

/** One row per level and combination: its label, its concurrency, then `cells` of its result. */
export function comboRows(r: BenchReport, cells: (v: ComboLevel) => string[]): string[][] {
  return r.levels.flatMap((l) =>
    Object.entries(l.results).flatMap(([id, v]) =>
      v ? [[r.combos[id] as string, String(l.concurrency), ...cells(v)]] : [],
    ),
  );
}

/** Beside each p99: where our processes' tail goes (event-loop delay, GC pauses) and the memory of both. */
export function runtimeRows(r: BenchReport): { head: string[]; rows: string[][] } {
  const head = [
    'combination',
    'conc',
    'p99 ms',
    'app loop',
    'app gc',
    'trans loop',
    'trans gc',
    'app rss peak',
    'trans rss peak',
    'app heap',
    'trans heap',
  ];
  const rows = comboRows(r, (v) => [
    fixed(v.p99Ms, 1),
    loop(v.appRuntime),
    gc(v.appRuntime),
    loop(v.transRuntime),
    gc(v.transRuntime),
    fixed(v.appRssPeakMiB, 0),
    fixed(v.transRssPeakMiB, 0),
    fixed(v.appHeapMiB, 1),
    fixed(v.transHeapMiB, 1),
  ]);
  return { head, rows };
}

/**
 * With the Connect row (--compare, msg): each client's CPU per transaction, all three against our trans — our app on
 * grpc-js (`ours`), the same calls on Connect (`connect`), the Go app (`goTs`) — and each Node stack's over Go's.
 */
export function clientCpuRows(r: BenchReport): { head: string[]; rows: string[][] } | undefined {
  if (!r.levels.some((l) => l.results.connect)) return undefined;
  const head = ['conc', 'grpc-js ms/tx', 'Connect ms/tx', 'Go ms/tx', 'grpc-js / Go', 'Connect / Go', 'Connect tx/s'];
  const rows = r.levels.map((l) => {
    const [g, c, go] = [l.results.ours, l.results.connect, l.results.goTs].map((v) => v?.appCpuMsPerTx);
    return [
      String(l.concurrency),
      fixed(g, 3),
      fixed(c, 3),
      fixed(go, 3),
      over(g, go),
      over(c, go),
      fixed(l.results.connect?.txPerSec, 0),
    ];
  });
  return { head, rows };
}

/**
 * With the bare grpc-js server (--compare): the four branch servers under the Go app — our trans (`goTs`), the bare
 * grpc-js server (`bareNode`), go-zero's trans (`go`), the bare grpc-go server (`ceiling`) — their CPU per call, how
 * ours and the bare grpc-js server compare with the next one down, and their RSS peaks.
 */
export function serverRows(r: BenchReport): { head: string[]; rows: string[][] } | undefined {
  if (!r.levels.some((l) => l.results.bareNode)) return undefined;
  const head = [
    'conc',
    'our trans ms/call',
    'bare grpc-js',
    'go-zero trans',
    'bare grpc-go',
    'ours / bare grpc-js',
    'bare grpc-js / bare grpc-go',
    'RSS peak MiB: our trans',
    'bare grpc-js',
    'go-zero trans',
    'bare grpc-go',
  ];
  const order = ['goTs', 'bareNode', 'go', 'ceiling'] as const;
  const rows = r.levels.map((l) => {
    const [ours, bare, gozero, bareGo] = order.map((id) => l.results[id]?.transCpuMsPerCall);
    return [
      String(l.concurrency),
      ...[ours, bare, gozero, bareGo].map((v) => fixed(v, 3)),
      over(ours, bare),
      over(bare, bareGo),
      ...order.map((id) => fixed(l.results[id]?.transRssPeakMiB, 0)),
    ];
  });
  return { head, rows };
}

/**
 * With the Node floor (--compare, msg): the Go stack (`go`), the Node floor (`nodeFloor`: NewGid + Submit on grpc-js
 * alone, to the bare grpc-js server) and our stack (`ours`) side by side — tx/s, p99 and the app's CPU per
 * transaction, the floor over the Go stack (what Node and grpc-js cost before any code of ours) and ours over the
 * floor (what our libraries and trans add).
 */
export function floorRows(r: BenchReport): { head: string[]; rows: string[][] } | undefined {
  if (!r.levels.some((l) => l.results.nodeFloor)) return undefined;
  const head = [
    'conc',
    'tx/s: Go stack',
    'Node floor',
    'our stack',
    'floor / Go',
    'ours / floor',
    'p99 ms: Go stack',
    'Node floor',
    'our stack',
    'floor / Go',
    'ours / floor',
    'app CPU ms/tx: Go app',
    'bare grpc-js app',
  ];
  const rows = r.levels.map((l) => {
    const [go, floor, ours] = (['go', 'nodeFloor', 'ours'] as const).map((id) => l.results[id]);
    return [
      String(l.concurrency),
      ...[go, floor, ours].map((v) => fixed(v?.txPerSec, 0)),
      over(floor?.txPerSec, go?.txPerSec),
      over(ours?.txPerSec, floor?.txPerSec),
      ...[go, floor, ours].map((v) => fixed(v?.p99Ms, 1)),
      over(floor?.p99Ms, go?.p99Ms),
      over(ours?.p99Ms, floor?.p99Ms),
      fixed(go?.appCpuMsPerTx, 3),
      fixed(floor?.appCpuMsPerTx, 3),
    ];
  });
  return { head, rows };
}

export const FLOOR_NOTE =
  'the same work with no code of ours on either side — NewGid + msg Submit on grpc-js alone, branches answered at once by a bare grpc-js server — beside the Go stack and ours';

export const SERVER_NOTE =
  'each branch server under the Go app: CPU per branch call, the ratios, and the RSS peak during the level';

/** The idle RSS line: our trans, and with --compare the other branch servers. */
function idleText(r: BenchReport): string | undefined {
  const idle = r.transIdleRssMiB;
  if (!idle) return undefined;
  const others = (
    [
      ['go', "go-zero's"],
      ['bareNode', 'the bare grpc-js server'],
      ['ceiling', 'the bare grpc-go server'],
    ] as const
  )
    .filter(([k]) => idle[k] !== undefined)
    .map(([k, name]) => `, ${name} ${fixed(idle[k], 0)} MiB`);
  return `trans RSS idle (before any load): ours ${fixed(idle.ts, 0)} MiB${others.join('')}`;
}

export const CLIENT_CPU_NOTE =
  "the app's CPU per transaction (NewGid + Submit), all three against our trans: our app on grpc-js, the same calls on Connect's gRPC transport, the Go app";

/** The tables after the ratios, where the run has their rows: a title, its note, and the rows (else undefined). */
const EXTRA_TABLES: [string, string, (r: BenchReport) => { head: string[]; rows: string[][] } | undefined][] = [
  ['client CPU per transaction', CLIENT_CPU_NOTE, clientCpuRows],
  ['branch servers', SERVER_NOTE, serverRows],
  ['the Node floor', FLOOR_NOTE, floorRows],
];

/** A table in columns: the first left-aligned, the others right-aligned, a rule under the header. */
function printAligned(head: string[], rows: string[][]): void {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((x) => (x[i] as string).length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(w[i] as number) : c.padStart(w[i] as number))).join('  ');
  console.log(line(head));
  console.log(w.map((n) => '-'.repeat(n)).join('  '));
  for (const x of rows) console.log(line(x));
}

/** The run on the terminal: the figures per level and combination, the tail and memory, ratios, errors, targets. */
export function printTable(r: BenchReport): void {
  const head = [
    'combination',
    'conc',
    'tx/s',
    'tx/s per round',
    'p50 ms',
    'p95 ms',
    'p99 ms',
    'errors',
    'app cpu/tx',
    'trans cpu/call',
    'app rss',
    'trans rss',
  ];
  const rows = comboRows(r, (v) => [
    v.txPerSec.toFixed(0),
    v.rounds.join('/'),
    fixed(v.p50Ms, 1),
    fixed(v.p95Ms, 1),
    fixed(v.p99Ms, 1),
    String(v.errors),
    `${fixed(v.appCpuMsPerTx, 3)} ms`,
    `${fixed(v.transCpuMsPerCall, 3)} ms`,
    `${fixed(v.appRssMiB, 0)} MiB`,
    `${fixed(v.transRssMiB, 0)} MiB`,
  ]);
  printAligned(head, rows);
  console.log(`\nwhere the tail goes, and memory (${RUNTIME_NOTE}):`);
  const rt = runtimeRows(r);
  printAligned(rt.head, rt.rows);
  const idle = idleText(r);
  if (idle) console.log(idle);
  if (r.levels.some((l) => l.ratio !== undefined)) {
    console.log(
      '\nTS / Go (tx/s), like for like (both apps NewGid + Submit), and our app with localGid (Submit only):',
    );
    console.log('  conc  whole stack  localGid row  client side  server side  ours/ceiling');
    for (const l of r.levels)
      console.log(
        `  ${String(l.concurrency).padStart(4)}  ${fixed(l.ratio, 2).padStart(11)}  ${fixed(l.localRatio, 2).padStart(12)}  ${fixed(l.clientRatio, 2).padStart(11)}  ${fixed(l.serverRatio, 2).padStart(11)}  ${fixed(l.ofCeiling, 2).padStart(12)}`,
      );
  }
  for (const [title, note, rowsOf] of EXTRA_TABLES) {
    const t = rowsOf(r);
    if (!t) continue;
    console.log(`\n${title} (${note}):`);
    printAligned(t.head, t.rows);
  }
  for (const l of r.levels)
    for (const [id, v] of Object.entries(l.results))
      if (v && v.errorSamples.length > 0)
        console.log(`errors, ${r.combos[id]} at ${l.concurrency}: ${v.errorSamples.join(' | ')}`);
  if (r.errorOutcomes)
    console.log(
      `\nwhat dtm made of transactions whose Submit reported an error: ${r.errorOutcomes.map((e) => `${e.gid} (${e.combo}, ${e.concurrency}) ${e.status}`).join('; ')}`,
    );
  if (r.soak)
    console.log(
      `\nsoak: our app, ${r.soak.seconds} s at concurrency ${r.soak.concurrency}, ${r.soak.tx} tx (${r.soak.errors} errors): heap after GC ${fixed(r.soak.heapStartMiB, 1)} → ${fixed(r.soak.heapEndMiB, 1)} MiB${soakTransText(r)}`,
    );
  if (r.targets.length > 0) {
    console.log('\ntargets:');
    for (const t of r.targets)
      console.log(`  ${t.met === undefined ? '?' : t.met ? '✓' : '✗'} ${t.target}: ${t.detail}`);
  }
  console.log(
    `\nload average before/after: ${r.load.before.map((n) => n.toFixed(2)).join(' ')} / ${r.load.after.map((n) => n.toFixed(2)).join(' ')}`,
  );
}

/** Our trans over the soak, as a clause: its heap after GC and its RSS level by part (rssTrend: 90th percentiles). */
function soakTransText(r: BenchReport): string {
  const t = r.soak?.trans;
  if (!t) return '';
  const trend = rssTrend(t.rssMiB);
  const rss = trend
    ? `, RSS (90th percentile) ${fixed(trend.firstTenthMiB, 0)} MiB in the first tenth, ${fixed(trend.thirdQuarterMiB, 0)} in the third quarter, ${fixed(trend.lastQuarterMiB, 0)} in the last (${fixed(Math.min(...t.rssMiB), 0)}–${fixed(Math.max(...t.rssMiB), 0)} MiB over ${t.rssMiB.length} samples)`
    : '';
  return `; our trans: heap after GC ${fixed(t.heapStartMiB, 1)} → ${fixed(t.heapEndMiB, 1)} MiB${rss}`;
}

/** docs/performance.md's table: per level and combination tx/s, latency, errors, CPU and RSS; then the ratios and targets. */
export function markdownSummary(r: BenchReport): string {
  const out: string[] = [];
  out.push(
    `\`${r.command}\` — ${r.machine.cpus} × ${r.machine.cpuModel}, ${r.machine.memGiB} GiB, Node ${r.machine.node}, ${r.machine.go ?? 'Go ?'}; dtm v1.19.0, store ${r.store}; ${r.mode}, ${r.durationS} s per point, ${r.rounds} interleaved round(s); our app's gids ${r.gid === 'local' ? 'made locally (`localGid`: 1 call to dtm per msg, where the Go app makes 2, NewGid + Submit)' : "from dtm's NewGid (2 calls per msg, as the Go app)"}${r.combos.oursLocal ? ', and made locally in the localGid row (Submit only)' : ''}; ${r.trans ? `our trans from ${r.trans.source === 'dist' ? 'dist/' : 'its sources'} (${r.trans.nodeArgs.join(' ') || 'no flags'}); ` : ''}${r.appNodeArgs ? `our app with ${r.appNodeArgs.join(' ')}; ` : ''}load average before/after ${r.load.before.map((x) => x.toFixed(1)).join(' ')} / ${r.load.after.map((x) => x.toFixed(1)).join(' ')}.`,
    '',
    '| concurrency | combination | tx/s (per round) | p50 / p95 / p99 ms | errors | app CPU ms/tx | trans CPU ms/call | app / trans RSS MiB |',
    '|---:|---|---:|---:|---:|---:|---:|---:|',
  );
  for (const l of r.levels)
    for (const [id, v] of Object.entries(l.results)) {
      if (!v) continue;
      out.push(
        `| ${l.concurrency} | ${r.combos[id]} | ${fixed(v.txPerSec, 0)} (${v.rounds.join(', ')}) | ${fixed(v.p50Ms, 1)} / ${fixed(v.p95Ms, 1)} / ${fixed(v.p99Ms, 1)} | ${v.errors} | ${fixed(v.appCpuMsPerTx, 3)} | ${fixed(v.transCpuMsPerCall, 3)} | ${fixed(v.appRssMiB, 0)} / ${fixed(v.transRssMiB, 0)} |`,
      );
    }
  const rt = runtimeRows(r);
  out.push(
    '',
    `Where the tail goes, and memory (${RUNTIME_NOTE}):`,
    '',
    `| ${rt.head.join(' | ')} |`,
    `|---|${rt.head
      .slice(1)
      .map(() => '---:')
      .join('|')}|`,
    ...rt.rows.map((x) => `| ${x.join(' | ')} |`),
  );
  const idle = idleText(r);
  if (idle) out.push('', `${idle}.`);
  if (r.levels.some((l) => l.ratio !== undefined)) {
    out.push(
      '',
      '| concurrency | TS/Go whole stack, like for like (both apps NewGid + Submit) | our app with localGid (Submit only) | client side (our app / Go app, go-zero trans) | server side (our trans / go-zero trans, Go app) | our stack / ceiling |',
      '|---:|---:|---:|---:|---:|---:|',
    );
    for (const l of r.levels)
      out.push(
        `| ${l.concurrency} | ${fixed(l.ratio, 2)} | ${fixed(l.localRatio, 2)} | ${fixed(l.clientRatio, 2)} | ${fixed(l.serverRatio, 2)} | ${fixed(l.ofCeiling, 2)} |`,
      );
  }
  for (const [title, note, rowsOf] of EXTRA_TABLES) {
    const t = rowsOf(r);
    if (!t) continue;
    out.push(
      '',
      `${title[0]?.toUpperCase()}${title.slice(1)} (${note}):`,
      '',
      `| ${t.head.join(' | ')} |`,
      `|${t.head.map(() => '---:').join('|')}|`,
      ...t.rows.map((x) => `| ${x.join(' | ')} |`),
    );
  }
  if (r.errorOutcomes)
    out.push(
      '',
      `What dtm made of transactions whose Submit reported an error (status once final, or after 60 s): ${r.errorOutcomes.map((e) => `${e.combo} at ${e.concurrency}: ${e.status}`).join('; ')}.`,
    );
  if (r.soak)
    out.push(
      '',
      `Soak: our app, ${r.soak.seconds} s at concurrency ${r.soak.concurrency}, ${r.soak.tx} transactions (${r.soak.errors} errors): heap after a full GC ${fixed(r.soak.heapStartMiB, 1)} MiB at the start, ${fixed(r.soak.heapEndMiB, 1)} MiB at the end${soakTransText(r)}.`,
    );
  if (r.targets.length > 0) {
    out.push('', '| target | met | measured |', '|---|---|---|');
    for (const t of r.targets)
      out.push(`| ${t.target} | ${t.met === undefined ? '?' : t.met ? 'yes' : '**no**'} | ${t.detail} |`);
  }
  return `${out.join('\n')}\n`;
}
