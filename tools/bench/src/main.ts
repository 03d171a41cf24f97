// `npm run bench`: global transactions through the real dtm at several concurrency levels, for a fixed time each,
// with throughput, latency percentiles, errors, and CPU and memory of every process from /proc.
// `--compare` runs the same workload, interleaved round by round (ABAB…, so machine drift cancels), for the four
// combinations {our app, the Go app} × {our trans, the go-zero trans} on one dtm, store and etcd, plus a ceiling
// (the Go app against a bare Go server whose branches cost nothing), and prints the TS/Go ratios.
// Writes JSON (--out), and next to it an SVG chart and a Markdown table (what docs/performance.md shows). Every wait
// is bounded; figures depend on the machine and its load. README.md describes the options, the output and the report.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { freemem, loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { svgChart, svgSoakChart } from './chart.ts';
import { parseOptions, UsageError } from './options.ts';
import type { BenchReport } from './report.ts';
import { interrupted, runBench } from './run.ts';
import { markdownSummary, printTable } from './table.ts';
import { targets } from './targets.ts';

/** Writes the SVG chart and the Markdown table next to a report's JSON; returns their paths. */
function render(json: string, report: BenchReport): string[] {
  const base = json.replace(/\.json$/, '');
  writeFileSync(`${base}.svg`, svgChart(report));
  writeFileSync(`${base}.md`, markdownSummary(report));
  const soak = svgSoakChart(report);
  if (soak) writeFileSync(`${base}-soak.svg`, soak);
  return [`${base}.svg`, `${base}.md`, ...(soak ? [`${base}-soak.svg`] : [])];
}

async function main(): Promise<void> {
  // `--render FILE.json`: the chart and table of an earlier run, again (after a change to them).
  if (process.argv[2] === '--render' && process.argv[3]) {
    const json = resolve(process.argv[3]);
    const report = JSON.parse(readFileSync(json, 'utf8')) as BenchReport;
    report.targets = targets(report);
    writeFileSync(json, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`wrote ${[json, ...render(json, report)].join(', ')}`);
    return;
  }
  const o = parseOptions(process.argv.slice(2));
  const command = `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim();
  process.stderr.write(
    `bench: ${command} (free memory ${(freemem() / 2 ** 30).toFixed(1)} GiB, load ${loadavg()[0]?.toFixed(2)})\n`,
  );
  const report = await runBench(o, command);
  printTable(report);
  mkdirSync(dirname(o.out), { recursive: true });
  writeFileSync(o.out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\nwrote ${[o.out, ...render(o.out, report)].join(', ')}`);
}

if (import.meta.main) {
  main().catch((err: unknown) => {
    // Interrupted: what failed is what the signal stopped; runBench exits with the signal's code.
    if (interrupted) return;
    console.error(`bench: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(err instanceof UsageError ? 2 : 1);
  });
}
