// Measuring: one level is `rounds` rounds, each running every combination once (interleaved, so that drift on the
// machine cancels); around each round /proc's CPU time and RSS peak of the worker, the branch server and dtm, and
// our processes' runtime figures. A level's rounds accumulate into one ComboLevel per combination.
import type { Combo } from './combos.ts';
import type { RuntimeStats } from './probe.ts';
import { cpuMs, resetRssPeak, rssMiB } from './proc.ts';
import type { Progress } from './progress.ts';
import type { LevelResult } from './protocol.ts';
import { type ComboId, type ComboLevel, type ErrorOutcome, type LevelReport, levelReport } from './report.ts';
import { mergeRuntime } from './trans-probe.ts';

/** A combination's figures over a level's rounds so far. */
export interface Acc {
  gids: string[];
  lat: number[];
  ok: number;
  errors: number;
  samples: string[];
  elapsedMs: number;
  rounds: number[];
  appCpu: number;
  transCpu: number;
  dtmCpu: number;
  appRss?: number | undefined;
  transRss?: number | undefined;
  appRssPeak?: number | undefined;
  transRssPeak?: number | undefined;
  appHeap?: number | undefined;
  transHeap?: number | undefined;
  appRuntime?: RuntimeStats | undefined;
  transRuntime?: RuntimeStats | undefined;
}

/** A combination's figures before its first round. */
export const newAcc = (): Acc => ({
  gids: [],
  lat: [],
  ok: 0,
  errors: 0,
  samples: [],
  elapsedMs: 0,
  rounds: [],
  appCpu: 0,
  transCpu: 0,
  dtmCpu: 0,
});

const maxOf = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined ? b : b === undefined ? a : Math.max(a, b);

const pct = (sorted: number[], p: number): number =>
  sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number);

/** What one round measured besides the worker's own answer. */
export interface RoundSample {
  /** CPU ms used during the round by the worker, the branch server and dtm (NaN where unknown). */
  cpu: [number, number, number];
  appRssPeak: number | undefined;
  transRssPeak: number | undefined;
  appRss: number | undefined;
  transRss: number | undefined;
  appHeap: number | undefined;
  transSnap: (RuntimeStats & { heapAfterGcMiB: number }) | undefined;
}

/** Adds a round's figures to the level's: sums, the worst peaks and delays, the last RSS, a few error samples. */
export function addRound(a: Acc, r: LevelResult, s: RoundSample): void {
  a.appRssPeak = maxOf(a.appRssPeak, s.appRssPeak);
  a.transRssPeak = maxOf(a.transRssPeak, s.transRssPeak);
  a.appRuntime = mergeRuntime(a.appRuntime, r.runtime);
  a.transRuntime = mergeRuntime(a.transRuntime, s.transSnap);
  if (s.appHeap !== undefined) a.appHeap = s.appHeap;
  if (s.transSnap) a.transHeap = s.transSnap.heapAfterGcMiB;
  a.appCpu += s.cpu[0];
  a.transCpu += s.cpu[1];
  a.dtmCpu += s.cpu[2];
  a.ok += r.ok;
  a.errors += r.errors;
  a.elapsedMs += r.elapsedMs;
  a.rounds.push((r.ok / r.elapsedMs) * 1000);
  for (const l of r.latUs) a.lat.push(l);
  for (const g of r.errorGids ?? []) if (a.gids.length < 5) a.gids.push(g);
  for (const e of r.errorSamples) {
    // One line each, distinct: dtm's error texts span lines and repeat.
    const line = e.replace(/\s+/g, ' ').slice(0, 240);
    if (a.samples.length < 3 && !a.samples.includes(line)) a.samples.push(line);
  }
  a.appRss = s.appRss;
  a.transRss = s.transRss;
}

/** A level's figures of one combination: tx/s, latency percentiles, CPU per transaction and per branch call, memory. */
export function summarize(c: number, a: Acc, callsPerTx: number): ComboLevel {
  const s = a.lat.sort((x, y) => x - y);
  const per = (cpu: number, n: number): number | undefined => (Number.isFinite(cpu) && n > 0 ? cpu / n : undefined);
  return {
    concurrency: c,
    rounds: a.rounds.map((r) => Math.round(r)),
    txPerSec: (a.ok / a.elapsedMs) * 1000,
    ok: a.ok,
    errors: a.errors,
    errorSamples: a.samples,
    p50Ms: pct(s, 50) / 1000,
    p95Ms: pct(s, 95) / 1000,
    p99Ms: pct(s, 99) / 1000,
    appCpuMsPerTx: per(a.appCpu, a.ok),
    transCpuMsPerCall: per(a.transCpu, a.ok * callsPerTx),
    dtmCpuMsPerTx: per(a.dtmCpu, a.ok),
    appRssMiB: a.appRss,
    transRssMiB: a.transRss,
    appRssPeakMiB: a.appRssPeak,
    transRssPeakMiB: a.transRssPeak,
    appHeapMiB: a.appHeap,
    transHeapMiB: a.transHeap,
    appRuntime: a.appRuntime,
    transRuntime: a.transRuntime,
  };
}

/** How to ask a combination's worker for `ms` of load at `concurrency` (the answer has a deadline). */
export type Ask = (c: Combo, concurrency: number, ms: number) => Promise<LevelResult>;

/** One round of one combination: the load, with /proc and the runtime probes read around it. */
export async function measureRound(
  c: Combo,
  concurrency: number,
  ms: number,
  dtmPid: number | undefined,
  ask: Ask,
): Promise<{ result: LevelResult; sample: RoundSample }> {
  const pids = [c.worker.child.pid, c.server.pid, dtmPid];
  resetRssPeak(c.worker.child.pid);
  resetRssPeak(c.server.pid);
  await c.probe?.snapshot(); // starts the trans's runtime figures afresh
  const before = pids.map(cpuMs);
  const result = await ask(c, concurrency, ms);
  const after = pids.map(cpuMs);
  // Outside the CPU window: both force a full GC.
  const transSnap = await c.probe?.snapshot();
  const appHeap = c.worker.lang === 'ts' ? await c.worker.heapMiB() : undefined;
  const d = after.map((v, i) => (v !== undefined && before[i] !== undefined ? v - (before[i] as number) : Number.NaN));
  return {
    result,
    sample: {
      cpu: [d[0] as number, d[1] as number, d[2] as number],
      appRssPeak: rssMiB(c.worker.child.pid, 'VmHWM'),
      transRssPeak: rssMiB(c.server.pid, 'VmHWM'),
      appRss: rssMiB(c.worker.child.pid),
      transRss: rssMiB(c.server.pid),
      appHeap,
      transSnap,
    },
  };
}

/** What every level of a run shares. */
export interface LevelContext {
  combos: Combo[];
  rounds: number;
  levelMs: number;
  dtmPid: number | undefined;
  callsPerTx: number;
  ask: Ask;
  progress: Progress;
}

/**
 * One concurrency level: `rounds` rounds of every combination in turn, summarized per combination with the ratios
 * between them; and the gids of transactions that reported an error (the run asks dtm about them at the end).
 */
export async function measureLevel(
  x: LevelContext,
  concurrency: number,
): Promise<{ level: LevelReport; errored: Omit<ErrorOutcome, 'status'>[] }> {
  const acc = new Map<ComboId, Acc>(x.combos.map((c) => [c.id, newAcc()]));
  for (let round = 1; round <= x.rounds; round++)
    for (const c of x.combos) {
      const done = x.progress.step(`${c.label}, concurrency ${concurrency}, round ${round}/${x.rounds}`, x.levelMs);
      const { result, sample } = await measureRound(c, concurrency, x.levelMs, x.dtmPid, x.ask);
      done();
      addRound(acc.get(c.id) as Acc, result, sample);
    }
  const errored = x.combos.flatMap((c) =>
    (acc.get(c.id) as Acc).gids.map((gid) => ({ combo: c.label, concurrency, gid })),
  );
  const results = Object.fromEntries(
    x.combos.map((c) => [c.id, summarize(concurrency, acc.get(c.id) as Acc, x.callsPerTx)]),
  ) as Partial<Record<ComboId, ComboLevel>>;
  return { level: levelReport(concurrency, results), errored };
}
