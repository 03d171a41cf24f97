// Reports for the unit tests of the tables, the chart and the targets (no test of its own: *.test.ts import it).
import type { RuntimeStats } from './probe.ts';
import type { BenchReport, ComboLevel } from './report.ts';
import { PROD_NODE_ARGS } from './trans.ts';

export const rt = (p99: number, gcMax: number): RuntimeStats => ({
  loopP50Ms: 1,
  loopP99Ms: p99,
  loopMaxMs: p99 * 2,
  gcCount: 3,
  gcTotalMs: 6,
  gcMaxMs: gcMax,
});

export function level(txPerSec: number, extra: Partial<ComboLevel> = {}): ComboLevel {
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
export function compareReport(): BenchReport {
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

/** console.log's lines while `fn` runs. */
export function logged(fn: () => void): string[] {
  const lines: string[] = [];
  const log = console.log;
  console.log = (l: string) => void lines.push(l);
  try {
    fn();
  } finally {
    console.log = log;
  }
  return lines;
}
