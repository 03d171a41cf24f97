import { expect, test } from 'vitest';
import { rt } from './fixtures.ts';
import { addRound, newAcc, type RoundSample, summarize } from './measure.ts';
import type { LevelResult } from './protocol.ts';

const result = (over: Partial<LevelResult> = {}): LevelResult => ({
  ok: 100,
  errors: 0,
  errorSamples: [],
  errorGids: [],
  latUs: [],
  elapsedMs: 1000,
  ...over,
});

const sample = (over: Partial<RoundSample> = {}): RoundSample => ({
  cpu: [50, 80, 100],
  appRssPeak: 100,
  transRssPeak: 90,
  appRss: 80,
  transRss: 70,
  appHeap: 20,
  transSnap: undefined,
  ...over,
});

test('two rounds of a level: tx/s over both, per round, percentiles of every latency, CPU per tx and per call', () => {
  const a = newAcc();
  // 100 tx in 1 s at 1..100 ms, then 300 tx in 2 s at 101..400 ms
  addRound(a, result({ latUs: Array.from({ length: 100 }, (_, i) => (i + 1) * 1000) }), sample());
  addRound(
    a,
    result({ ok: 300, elapsedMs: 2000, latUs: Array.from({ length: 300 }, (_, i) => (i + 101) * 1000) }),
    sample({ cpu: [150, 720, 300], appRssPeak: 120, transRssPeak: 85, appRss: 81, transRss: 71 }),
  );
  const s = summarize(16, a, 4);
  expect(s).toMatchObject({ concurrency: 16, ok: 400, txPerSec: (400 / 3000) * 1000, rounds: [100, 150] });
  expect([s.p50Ms, s.p95Ms, s.p99Ms]).toEqual([201, 381, 397]);
  expect(s.appCpuMsPerTx).toBe(0.5); // (50 + 150) / 400
  expect(s.transCpuMsPerCall).toBe(0.5); // (80 + 720) / (400 × 4 calls)
  expect(s.dtmCpuMsPerTx).toBe(1);
  // the worst peak of the rounds, the last round's RSS
  expect(s).toMatchObject({ appRssPeakMiB: 120, transRssPeakMiB: 90, appRssMiB: 81, transRssMiB: 71 });
});

test("a process whose CPU time /proc could not read: no CPU figure rather than a wrong one; our trans's heap and tail", () => {
  const a = newAcc();
  addRound(
    a,
    result({ runtime: rt(5, 1) }),
    sample({ cpu: [50, Number.NaN, 100], transSnap: { ...rt(7, 2), heapAfterGcMiB: 15.5 } }),
  );
  addRound(a, result({ runtime: rt(9, 0.5) }), sample({ transSnap: { ...rt(3, 4), heapAfterGcMiB: 16 } }));
  const s = summarize(1, a, 2);
  expect(s.transCpuMsPerCall).toBeUndefined();
  expect(s.appCpuMsPerTx).toBe(0.5);
  expect(s.appRuntime).toMatchObject({ loopP99Ms: 9, gcCount: 6 });
  expect(s.transRuntime).toMatchObject({ loopP99Ms: 7, gcMaxMs: 4 });
  expect(s.transHeapMiB).toBe(16);
  expect(s.appHeapMiB).toBe(20);
});

test('errors: counted, at most 5 gids and 3 distinct samples, each on one line of at most 240 characters', () => {
  const a = newAcc();
  const long = `dtm said:\n  ${'x'.repeat(300)}`;
  addRound(
    a,
    result({
      ok: 0,
      errors: 7,
      errorGids: ['g1', 'g2', 'g3', 'g4'],
      errorSamples: ['timeout\nafter 5 s', 'timeout after 5 s', long, 'overloaded', 'another'],
    }),
    sample(),
  );
  addRound(a, result({ errors: 2, errorGids: ['g5', 'g6'] }), sample());
  const s = summarize(4, a, 2);
  expect(s.errors).toBe(9);
  expect(a.gids).toEqual(['g1', 'g2', 'g3', 'g4', 'g5']);
  expect(s.errorSamples).toEqual(['timeout after 5 s', `dtm said: ${'x'.repeat(230)}`, 'overloaded']);
  expect(s.rounds).toEqual([0, 100]);
});

test('a level without a single transaction: percentiles 0, no CPU per transaction', () => {
  const s = summarize(1, newAcc(), 2);
  expect([s.p50Ms, s.p99Ms, s.appCpuMsPerTx, s.transCpuMsPerCall]).toEqual([0, 0, undefined, undefined]);
});
