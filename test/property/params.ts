// How many cases the property and fuzz suites run: a small number in CI (`npm test`), a long setting through
// `npm run fuzz -- --runs N [--seed S] [--path P]` (tools/fuzz/fuzz.ts passes these as FUZZ_RUNS, FUZZ_SEED and
// FUZZ_PATH). fast-check's failure message carries the seed and path that replay the failing case.
import type { Parameters } from 'fast-check';

function envInt(name: string): number | undefined {
  const v = process.env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new Error(`${name}=${JSON.stringify(v)} is not a whole number`);
  return n;
}

/** fast-check parameters for one property: `ciRuns` cases unless the fuzz command asks for more. */
export function fuzzParams<T>(ciRuns: number): Parameters<T> {
  const runs = envInt('FUZZ_RUNS');
  const seed = envInt('FUZZ_SEED');
  const path = process.env.FUZZ_PATH;
  return {
    numRuns: runs ?? ciRuns,
    ...(seed === undefined ? {} : { seed }),
    ...(path ? { path } : {}),
    // Cases against real servers are slow to shrink; the first counterexample, with its seed and path, is enough
    // to replay it.
    endOnFailure: true,
  };
}

/** Scales a per-file time budget with the number of runs asked for (the CI budget covers `ciRuns`). */
export function budgetMs(ciRuns: number, ciMs: number): number {
  const runs = envInt('FUZZ_RUNS') ?? ciRuns;
  return Math.max(ciMs, Math.ceil((ciMs * runs) / ciRuns));
}
