// The JSON report of `npm run bench` (--out FILE.json; README.md's "The report" describes it): its types, a level's
// ratios, and the machine it records.
import { execFileSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import type { ClientStack } from './options.ts';
import type { RuntimeStats } from './probe.ts';
import type { BenchMode, GidSource } from './protocol.ts';
import type { TransSource } from './trans.ts';

/**
 * The combinations, in the order they run: which load generator drives which branch server. `ours` always (our app
 * on Connect's gRPC transport instead with --client connect); the others with --compare, `connect` last: the same
 * calls as `ours` through Connect's gRPC transport (issue #22's comparison with another Node gRPC stack), then
 * `nodeFloor`: those calls on grpc-js alone against the bare grpc-js server (no code of ours on either side).
 */
export const COMBO_IDS = [
  'ours',
  'go',
  'tsGo',
  'goTs',
  'ceiling',
  'bareNode',
  'oursLocal',
  'connect',
  'nodeFloor',
] as const;
export type ComboId = (typeof COMBO_IDS)[number];
/** The combinations whose branch server is our trans. */
export const OUR_TRANS: ComboId[] = ['ours', 'goTs', 'oursLocal', 'connect'];

/** The branch servers whose idle RSS a run records. */
export type IdleServer = 'ts' | 'go' | 'bareNode' | 'ceiling';

export interface ComboLevel {
  concurrency: number;
  rounds: number[];
  txPerSec: number;
  ok: number;
  errors: number;
  errorSamples: string[];
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  /** CPU ms per transaction of the load generator (the app). */
  appCpuMsPerTx: number | undefined;
  /** CPU ms per branch call of the branch server (trans). */
  transCpuMsPerCall: number | undefined;
  dtmCpuMsPerTx: number | undefined;
  appRssMiB: number | undefined;
  transRssMiB: number | undefined;
  /** Peak RSS during the level (VmHWM, restarted before each round; the worst round), MiB. */
  appRssPeakMiB?: number | undefined;
  transRssPeakMiB?: number | undefined;
  /** V8 heap used after a full GC at the level's end, MiB (our processes only). */
  appHeapMiB?: number | undefined;
  transHeapMiB?: number | undefined;
  /** Event-loop delay and GC pauses during the level (our processes only). */
  appRuntime?: RuntimeStats | undefined;
  transRuntime?: RuntimeStats | undefined;
}

export interface LevelReport {
  concurrency: number;
  /** tx/s of each combination at this level. */
  txPerSec: Partial<Record<ComboId, number>>;
  /** Our stack's tx/s over the Go stack's (with --compare), like for like: both apps call NewGid + Submit. */
  ratio?: number | undefined;
  /** The same with our app taking its gids locally (localGid: Submit only). */
  localRatio?: number | undefined;
  /** Our app over the Go app, both against the go-zero trans. */
  clientRatio?: number | undefined;
  /** Our trans over the go-zero trans, both under the Go app. */
  serverRatio?: number | undefined;
  /** The Node floor (bare grpc-js app → bare grpc-js server) over the Go stack: what no code of ours is in. */
  floorRatio?: number | undefined;
  /** Our stack over the ceiling. */
  ofCeiling?: number | undefined;
  results: Partial<Record<ComboId, ComboLevel>>;
}

export interface ErrorOutcome {
  combo: string;
  concurrency: number;
  gid: string;
  status: string;
}

export interface BenchReport {
  command: string;
  date: string;
  machine: { cpus: number; cpuModel: string; memGiB: number; node: string; go: string | undefined };
  load: { before: number[]; after: number[]; note: string };
  store: string;
  mode: BenchMode;
  /** Where our app took its gids (absent in reports from before the option: dtm); --compare: dtm, plus oursLocal. */
  gid?: GidSource;
  /** Our app's gRPC stack in the `ours` row (absent in reports from before the option: grpc-js). */
  client?: ClientStack;
  /** How our trans ran: from dist/ or its sources, with which Node flags. */
  trans?: { source: TransSource; nodeArgs: string[] };
  /** --app-node-options: the Node/V8 flags our app ran with beyond --expose-gc (absent: none). */
  appNodeArgs?: string[];
  /**
   * RSS of each branch server a few seconds after its start, before any load, MiB: our trans, go-zero's, and with
   * --compare the bare grpc-js server and the bare grpc-go server (the ceiling).
   */
  transIdleRssMiB?: Partial<Record<IdleServer, number>>;
  durationS: number;
  rounds: number;
  combos: Record<string, string>;
  levels: LevelReport[];
  /** What dtm made of a few transactions whose Submit reported an error: their status once final (or after 60 s). */
  errorOutcomes?: ErrorOutcome[];
  soak?: {
    seconds: number;
    concurrency: number;
    heapStartMiB: number;
    heapEndMiB: number;
    tx: number;
    errors: number;
    /** Our trans over the soak: heap after a full GC at the start and the end, RSS sampled every SOAK_SAMPLE_S. */
    trans?: SoakTrans;
  };
  targets: { target: string; met: boolean | undefined; detail: string }[];
}

/** Our trans over the soak. */
export interface SoakTrans {
  heapStartMiB: number | undefined;
  heapEndMiB: number | undefined;
  /** RSS, MiB, one sample per SOAK_SAMPLE_S seconds. */
  rssMiB: number[];
}

/** How often the soak samples our trans's RSS. */
export const SOAK_SAMPLE_S = 1;

/**
 * Whether RSS still grows at the end of a soak: the level of its third quarter against the level of its last (the
 * second half, because the allocators fill up to their working size first, while a leak keeps climbing). A quarter's
 * level is its 90th percentile: the tops of the saw-tooth V8's major GCs draw count, a one-second spike does not (a
 * quiet run's 600-second soak sat at 146–148 MiB for its whole second half but for one sample of 154). Also the
 * first tenth's level, to show the warm-up, and the peak of the whole soak. Undefined under 20 samples.
 */
export function rssTrend(
  samples: number[],
): { firstTenthMiB: number; thirdQuarterMiB: number; lastQuarterMiB: number; peakMiB: number } | undefined {
  if (samples.length < 20) return undefined;
  const level = (from: number, to: number): number => {
    const part = samples.slice(Math.floor(samples.length * from), Math.ceil(samples.length * to)).sort((a, b) => a - b);
    return part[Math.ceil(part.length * 0.9) - 1] as number;
  };
  return {
    firstTenthMiB: level(0, 0.1),
    thirdQuarterMiB: level(0.5, 0.75),
    lastQuarterMiB: level(0.75, 1),
    peakMiB: Math.max(...samples),
  };
}

/** The ratios of a level between combinations (undefined where one of the two did not run). */
export function levelReport(concurrency: number, results: Partial<Record<ComboId, ComboLevel>>): LevelReport {
  const tps = (id: ComboId): number | undefined => results[id]?.txPerSec;
  const ratio = (a: ComboId, b: ComboId): number | undefined => {
    const x = tps(a);
    const y = tps(b);
    return x !== undefined && y ? x / y : undefined;
  };
  return {
    concurrency,
    txPerSec: Object.fromEntries(COMBO_IDS.filter((id) => results[id]).map((id) => [id, tps(id)])),
    ratio: ratio('ours', 'go'),
    localRatio: ratio('oursLocal', 'go'),
    clientRatio: ratio('tsGo', 'go'),
    serverRatio: ratio('goTs', 'go'),
    floorRatio: ratio('nodeFloor', 'go'),
    ofCeiling: ratio('ours', 'ceiling'),
    results,
  };
}

/** The machine the figures are of: CPUs, memory, Node, and Go when it is on the PATH. */
export function machine(): BenchReport['machine'] {
  let go: string | undefined;
  try {
    go = execFileSync('go', ['version'], { encoding: 'utf8', timeout: 10_000 }).trim();
  } catch {
    go = undefined;
  }
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    go,
  };
}
