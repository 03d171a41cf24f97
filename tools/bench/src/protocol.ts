// The line protocol between the bench and its load generators (our worker.ts, and the Go twin
// interop/gozero/app/bench.go, `go-app -bench-worker`): the modes, the gid sources, one level's request and result.
import type { RuntimeStats } from './probe.ts';

export const MODES = ['msg', 'tcc', 'saga', 'xa'] as const;
export type BenchMode = (typeof MODES)[number];
export const GID_SOURCES = ['local', 'dtm'] as const;
export type GidSource = (typeof GID_SOURCES)[number];

/**
 * Branch calls trans serves per transaction: msg and saga call 2 actions; tcc 2 tries (from the app) + 2 confirms;
 * xa 2 phase-1 calls (from the app) + 2 phase-2 commits (from dtm: one per branch's "commit" op).
 */
export const CALLS_PER_TX: Record<BenchMode, number> = { msg: 2, saga: 2, tcc: 4, xa: 4 };

/** The accounts loop `slot` (0, 1, …) of an xa level moves money between: from 2·slot+1 to 2·slot+2. */
export function xaUsers(slot: number): [bigint, bigint] {
  return [BigInt(2 * slot + 1), BigInt(2 * slot + 2)];
}

export interface LevelRequest {
  mode: BenchMode;
  concurrency: number;
  durationMs: number;
  busi: string;
  /** Where this level's gids come from (default: the worker's --gid). */
  gid?: GidSource | undefined;
}

export interface LevelResult {
  ok: number;
  errors: number;
  errorSamples: string[];
  /** The first few gids whose transaction reported an error (the bench asks dtm what became of them). */
  errorGids: string[];
  latUs: number[];
  elapsedMs: number;
  /** Event-loop delay and GC pauses of the load generator during the level (ours; the Go worker has none). */
  runtime?: RuntimeStats | undefined;
}

/** A request is well formed: a known mode and gid source, at least one loop for at least 1 ms, a target. */
export function validRequest(r: Partial<LevelRequest>): r is LevelRequest {
  return (
    MODES.includes(r.mode as BenchMode) &&
    Number(r.concurrency) >= 1 &&
    Number(r.durationMs) >= 1 &&
    Boolean(r.busi) &&
    (r.gid === undefined || GID_SOURCES.includes(r.gid))
  );
}
