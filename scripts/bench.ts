// `npm run bench`: global transactions through the real dtm at several concurrency levels, for a fixed time each,
// with throughput, latency percentiles, errors, and CPU and memory of every process from /proc.
// `--compare` runs the same workload, interleaved round by round (ABAB…, so machine drift cancels), for the four
// combinations {our app, the Go app} × {our trans, the go-zero trans} on one dtm, store and etcd, plus a ceiling
// (the Go app against a bare Go server whose branches cost nothing), and prints the TS/Go ratios.
// Writes JSON (--out), and next to it an SVG chart and a Markdown table (what docs/performance.md shows). Every wait is bounded; figures depend on the machine and its load.
// `--mode xa` (our stack only: the Go twins have no XA branches) starts a MariaDB of its own for trans's bank.
// Beside p99 it reports where the tail goes in our processes (event-loop delay, GC pauses: scripts/lib/bench-probe.ts)
// and memory per process (RSS peak per level, heap after a full GC, trans's RSS idle).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { stripTypeScriptTypes } from 'node:module';
import { cpus, freemem, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { openBank, parseMysqlDataSource } from '@dtm-gozero/bank';
import { type DtmStack, startDtmStack } from '@dtm-gozero/testkit';
import { type BenchMode, GID_SOURCES, type GidSource, type LevelResult, MODES, xaUsers } from './bench-worker.ts';
import { startOwnMariadb } from './cluster.ts';
import { comboRows, markdownSummary, RUNTIME_NOTE, runtimeRows, svgChart } from './lib/bench-chart.ts';
import type { ProbeSnapshot, RuntimeStats } from './lib/bench-probe.ts';
import { bin, type Child, freePort, root, start, tempFile } from './lib/child.ts';
import { buildGo, startTrans, type Trans } from './lib/twins.ts';

const USAGE = `usage: npm run bench -- [--compare] [--levels 1,16,64] [--duration S] [--rounds N] [--mode msg|tcc|saga|xa]
       [--store boltdb|redis|mysql] [--out FILE.json] [--soak S] [--cpu-prof DIR] [--gid local|dtm]
       [--trans dist|src] [--trans-node-options="FLAGS"]
       [--etcd HOST:PORT --dtm TARGET [--dtm-http URL]]   (a running stack instead of one of its own)
       npm run bench -- --render FILE.json  (its chart and table again)
--mode xa runs our stack only (the Go twins have no XA branches), with a MariaDB of its own for trans's bank.
--compare's headline is like for like (our app calls NewGid + Submit, as the Go app); a second row, labelled
localGid, shows our app taking its gids locally (Submit only). --gid is for runs without --compare.
--trans dist (the default) runs our trans as production does (npm run build, then dist/ with PROD_NODE_ARGS);
--trans src runs its TypeScript sources; --trans-node-options adds Node/V8 flags to it (e.g. for an A/B of sizing).`;
/**
 * How production runs trans (package.json's trans:prod and the Dockerfile say the same; scripts/bench.test.ts
 * checks): the compiled packages, and a young generation of 1 MiB semi-spaces — chosen by measurement
 * (docs/performance.md: RSS idle and at concurrency 64 with and without).
 */
export const PROD_NODE_ARGS = ['--conditions=dtm-gozero-dist', '--max-semi-space-size=1'];
export const TRANS_SOURCES = ['dist', 'src'] as const;
export type TransSource = (typeof TRANS_SOURCES)[number];
const STORES = ['boltdb', 'redis', 'mysql'] as const;
type Store = (typeof STORES)[number];
/**
 * Branch calls trans serves per transaction: msg and saga call 2 actions; tcc 2 tries (from the app) + 2 confirms;
 * xa 2 phase-1 calls (from the app) + 2 phase-2 commits (from dtm: one per branch's "commit" op).
 */
const CALLS_PER_TX: Record<BenchMode, number> = { msg: 2, saga: 2, tcc: 4, xa: 4 };
const LOG_KEEP = 64 * 1024; // trans logs a line per call: keep only the tail in memory

class UsageError extends Error {}

export interface BenchOptions {
  compare: boolean;
  levels: number[];
  durationS: number;
  rounds: number;
  mode: BenchMode;
  store: Store;
  out: string;
  soakS: number;
  cpuProf: string | undefined;
  /**
   * Where our app takes each gid without --compare: made locally (one call to dtm per msg) or from dtm's NewGid (two,
   * as Go's). --compare runs both: NewGid for the headline, localGid as a row of its own.
   */
  gid: GidSource;
  /** Our trans from dist/ (as production) or from its sources. */
  trans: TransSource;
  /** More Node/V8 flags for our trans. */
  transNodeOptions: string[];
  etcd: string[] | undefined;
  dtm: string | undefined;
  /** dtm's HTTP API of a running stack (to ask what became of transactions that reported an error). */
  dtmHttp: string | undefined;
}

export function parseOptions(argv: string[]): BenchOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        compare: { type: 'boolean', default: false },
        levels: { type: 'string', default: '1,16,64' },
        duration: { type: 'string', default: '6' },
        rounds: { type: 'string' },
        mode: { type: 'string', default: 'msg' },
        store: { type: 'string', default: 'boltdb' },
        out: { type: 'string', default: '.cache/bench/bench.json' },
        soak: { type: 'string', default: '0' },
        'cpu-prof': { type: 'string' },
        gid: { type: 'string' },
        trans: { type: 'string', default: 'dist' },
        'trans-node-options': { type: 'string', default: '' },
        etcd: { type: 'string' },
        dtm: { type: 'string' },
        'dtm-http': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${USAGE}`);
  }
  if (values.help) throw new UsageError(USAGE);
  const num = (flag: string, v: string, min: number): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) throw new UsageError(`--${flag} ${v}: want a number ≥ ${min}\n${USAGE}`);
    return n;
  };
  const levels = String(values.levels)
    .split(',')
    .map((s) => num('levels', s.trim(), 1))
    .map(Math.round);
  const mode = values.mode as BenchMode;
  if (!MODES.includes(mode)) throw new UsageError(`--mode ${mode}: want one of ${MODES.join(', ')}\n${USAGE}`);
  if (mode === 'xa' && values.compare)
    throw new UsageError(
      `--compare --mode xa: the Go twins (interop/gozero) have no XA branches, so there is nothing to compare; run --mode xa without --compare\n${USAGE}`,
    );
  const store = values.store as Store;
  if (!STORES.includes(store)) throw new UsageError(`--store ${store}: want one of ${STORES.join(', ')}\n${USAGE}`);
  const compare = values.compare as boolean;
  if (compare && values.gid !== undefined)
    throw new UsageError(
      `--compare --gid ${values.gid}: --compare runs both (NewGid + Submit as its headline, localGid as a labelled row); drop --gid\n${USAGE}`,
    );
  const gid = (values.gid ?? 'local') as GidSource;
  if (!GID_SOURCES.includes(gid)) throw new UsageError(`--gid ${gid}: want local or dtm\n${USAGE}`);
  const trans = values.trans as TransSource;
  if (!TRANS_SOURCES.includes(trans)) throw new UsageError(`--trans ${trans}: want dist or src\n${USAGE}`);
  if (Boolean(values.etcd) !== Boolean(values.dtm))
    throw new UsageError(`--etcd and --dtm go together (a running stack: its etcd and dtm's target)\n${USAGE}`);
  return {
    compare,
    levels,
    durationS: num('duration', String(values.duration), 0.5),
    rounds: Math.round(num('rounds', String(values.rounds ?? (compare ? 2 : 1)), 1)),
    mode,
    store,
    out: resolve(String(values.out)),
    soakS: num('soak', String(values.soak), 0),
    cpuProf: values['cpu-prof'] ? resolve(String(values['cpu-prof'])) : undefined,
    gid: compare ? 'dtm' : gid,
    trans,
    transNodeOptions: String(values['trans-node-options']).split(/\s+/).filter(Boolean),
    etcd: values.etcd ? String(values.etcd).split(',') : undefined,
    dtm: values.dtm ? String(values.dtm) : undefined,
    dtmHttp: values['dtm-http'] ? String(values['dtm-http']) : undefined,
  };
}

// ---------- /proc ----------

const CLK_TCK = 100; // Linux's USER_HZ on every architecture Node supports

/** CPU time (user + system) a process has used, in ms; undefined when it is gone or there is no /proc. */
function cpuMs(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK; // fields 14 and 15 of proc(5)
  } catch {
    return undefined;
  }
}

/** Resident set size in MiB (VmRSS), or its peak (VmHWM: since the start or the last resetRssPeak). */
function rssMiB(pid: number | undefined, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number | undefined {
  if (!pid) return undefined;
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Starts a new RSS peak (VmHWM) at the current RSS: proc(5), clear_refs "5"; our own children only. */
function resetRssPeak(pid: number | undefined): void {
  if (!pid) return;
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
  } catch {
    // gone, or a kernel without it: the peak then spans the process's life, which the table cannot tell apart
  }
}

function comm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

// ---------- workers ----------

/** A load generator speaking scripts/bench-worker.ts's line protocol (the TS worker, or `go-app -bench-worker`). */
class Worker {
  readonly child: Child;
  readonly lang: 'ts' | 'go';
  private readonly lines: string[] = [];
  private wake: (() => void) | undefined;

  constructor(child: Child, lang: 'ts' | 'go') {
    this.child = child;
    this.lang = lang;
    createInterface({ input: child.proc.stdout as NodeJS.ReadableStream }).on('line', (l) => {
      this.lines.push(l);
      this.wake?.();
    });
  }

  async next(ms: number): Promise<string> {
    const end = Date.now() + ms;
    while (this.lines.length === 0) {
      if (this.child.proc.exitCode !== null || this.child.proc.signalCode !== null)
        throw new Error(`${this.child.name} exited: ${this.child.stderr().trim()}`);
      if (Date.now() > end)
        throw new Error(`${this.child.name}: no answer within ${ms} ms; stderr: ${this.child.stderr()}`);
      await new Promise<void>((r) => {
        this.wake = r;
        setTimeout(r, 200);
      });
    }
    return this.lines.shift() as string;
  }

  async request<T>(req: object, ms: number): Promise<T> {
    this.child.proc.stdin?.write(`${JSON.stringify(req)}\n`);
    return JSON.parse(await this.next(ms)) as T;
  }

  async stop(): Promise<void> {
    this.child.proc.stdin?.end();
    try {
      await this.child.exited(10_000);
    } catch {
      await this.child.stop();
    }
  }
}

async function startWorker(
  lang: 'ts' | 'go',
  dtm: string,
  cpuProf: string | undefined,
  gid: GidSource = 'local',
): Promise<Worker> {
  const child =
    lang === 'ts'
      ? start(
          'ts app (bench worker)',
          process.execPath,
          [
            '--expose-gc',
            ...(cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${cpuProf}/app`] : []),
            join(root, 'scripts/bench-worker.ts'),
            '--dtm',
            dtm,
            '--gid',
            gid,
          ],
          { keep: LOG_KEEP },
        )
      : start('go app (bench worker)', join(bin, 'go-app'), ['-bench-worker', '-dtm', dtm], { keep: LOG_KEEP });
  const w = new Worker(child, lang);
  const first = await w.next(30_000);
  if (first !== 'ready') throw new Error(`${child.name}: expected "ready", got ${first}`);
  return w;
}

/**
 * Our trans's runtime figures (scripts/lib/bench-probe.ts, loaded with --import): SIGUSR2 asks for the figures since
 * the last ask (and a full GC), the probe writes them to a file with a higher sequence number.
 */
export class TransProbe {
  private seq = 0;
  readonly pid: number;
  readonly file: string;
  constructor(pid: number, file: string) {
    this.pid = pid;
    this.file = file;
  }

  async snapshot(ms = 15_000): Promise<ProbeSnapshot> {
    process.kill(this.pid, 'SIGUSR2');
    const end = Date.now() + ms;
    for (;;) {
      if (existsSync(this.file)) {
        const snap = JSON.parse(readFileSync(this.file, 'utf8')) as ProbeSnapshot;
        if (snap.seq > this.seq) {
          this.seq = snap.seq;
          return snap;
        }
      }
      if (Date.now() > end)
        throw new Error(`our trans (pid ${this.pid}) wrote no runtime figures to ${this.file} within ${ms} ms`);
      await new Promise((res) => setTimeout(res, 20));
    }
  }
}

/** `npm run build` (incremental: seconds when nothing changed), so that our trans runs the current code from dist/. */
function buildDist(): void {
  const r = spawnSync('npm', ['run', '--silent', 'build'], { cwd: root, encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0)
    throw new Error(
      `npm run build failed (status ${r.status}${r.error ? `, ${r.error.message}` : ''}), so our trans cannot run from dist/; fix the build or pass --trans src:\n${r.stdout}${r.stderr}`,
    );
}

/** The probe as JavaScript in a temp dir: a trans run from dist/ must not load type stripping for it. */
export function probeScript(): string {
  const ts = readFileSync(join(root, 'scripts/lib/bench-probe.ts'), 'utf8');
  // Node 24 calls stripTypeScriptTypes experimental and says so on stderr, in the middle of the progress bar.
  const warn = process.emitWarning;
  process.emitWarning = () => undefined;
  try {
    return tempFile('bench-probe.mjs', stripTypeScriptTypes(ts));
  } finally {
    process.emitWarning = warn;
  }
}

/** Merges a round's runtime figures into the level's: the worst delay percentiles, GC pauses summed. */
export function mergeRuntime(a: RuntimeStats | undefined, b: RuntimeStats | undefined): RuntimeStats | undefined {
  if (!a || !b) return a ?? b;
  return {
    loopP50Ms: Math.max(a.loopP50Ms, b.loopP50Ms),
    loopP99Ms: Math.max(a.loopP99Ms, b.loopP99Ms),
    loopMaxMs: Math.max(a.loopMaxMs, b.loopMaxMs),
    gcCount: a.gcCount + b.gcCount,
    gcTotalMs: a.gcTotalMs + b.gcTotalMs,
    gcMaxMs: Math.max(a.gcMaxMs, b.gcMaxMs),
  };
}

const maxOf = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined ? b : b === undefined ? a : Math.max(a, b);

// ---------- measuring ----------

/** A combination: which load generator drives which branch server. */
interface Combo {
  id: 'ours' | 'go' | 'tsGo' | 'goTs' | 'ceiling' | 'oursLocal';
  label: string;
  worker: Worker;
  busi: string;
  server: Child;
  /** Our worker's gid source for this combination (--compare: NewGid except the localGid row). */
  gid?: GidSource | undefined;
  /** Our trans's runtime probe (absent for the Go servers). */
  probe?: TransProbe | undefined;
}

/** The combinations whose branch server is our trans. */
const OUR_TRANS: Combo['id'][] = ['ours', 'goTs', 'oursLocal'];

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

interface Acc {
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

const pct = (sorted: number[], p: number): number =>
  sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number);

function summarize(c: number, a: Acc, callsPerTx: number): ComboLevel {
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

/** A progress bar on stderr, redrawn in place on a terminal; one line per step otherwise. */
class Progress {
  private done = 0;
  private readonly started = Date.now();
  private label = '';
  private timer: NodeJS.Timeout | undefined;
  private readonly totalMs: number;
  constructor(totalMs: number) {
    this.totalMs = totalMs;
  }
  step(label: string, ms: number): () => void {
    this.label = label;
    const t0 = Date.now();
    if (process.stderr.isTTY) {
      this.timer = setInterval(() => this.draw(Date.now() - t0), 250);
      this.draw(0);
    } else process.stderr.write(`bench: ${label}\n`);
    return () => {
      clearInterval(this.timer);
      this.done += ms;
      if (process.stderr.isTTY) this.draw(0);
    };
  }
  private draw(inStep: number): void {
    const f = Math.min(1, (this.done + inStep) / this.totalMs);
    const w = 30;
    const bar = '█'.repeat(Math.round(f * w)).padEnd(w, '░');
    const left = Math.max(0, Math.round((this.totalMs - this.done - inStep) / 1000));
    process.stderr.write(`\r\x1b[K[${bar}] ${(f * 100).toFixed(0).padStart(3)}%  ~${left}s left  ${this.label}`);
  }
  end(): void {
    if (process.stderr.isTTY)
      process.stderr.write(`\r\x1b[Kbench: done in ${((Date.now() - this.started) / 1000).toFixed(0)} s\n`);
  }
}

// ---------- report ----------

export interface BenchReport {
  command: string;
  date: string;
  machine: { cpus: number; cpuModel: string; memGiB: number; node: string; go: string | undefined };
  load: { before: number[]; after: number[]; note: string };
  store: string;
  mode: BenchMode;
  /** Where our app took its gids (absent in reports from before the option: dtm); --compare: dtm, plus oursLocal. */
  gid?: GidSource;
  /** How our trans ran: from dist/ or its sources, with which Node flags. */
  trans?: { source: TransSource; nodeArgs: string[] };
  /** RSS of each trans a few seconds after its start, before any load, MiB. */
  transIdleRssMiB?: Partial<Record<'ts' | 'go', number>>;
  durationS: number;
  rounds: number;
  combos: Record<string, string>;
  levels: {
    concurrency: number;
    /** tx/s of each combination at this level. */
    txPerSec: Partial<Record<Combo['id'], number>>;
    /** Our stack's tx/s over the Go stack's (with --compare), like for like: both apps call NewGid + Submit. */
    ratio?: number | undefined;
    /** The same with our app taking its gids locally (localGid: Submit only). */
    localRatio?: number | undefined;
    /** Our app over the Go app, both against the go-zero trans. */
    clientRatio?: number | undefined;
    /** Our trans over the go-zero trans, both under the Go app. */
    serverRatio?: number | undefined;
    /** Our stack over the ceiling. */
    ofCeiling?: number | undefined;
    results: Partial<Record<Combo['id'], ComboLevel>>;
  }[];
  /** What dtm made of a few transactions whose Submit reported an error: their status once final (or after 60 s). */
  errorOutcomes?: { combo: string; concurrency: number; gid: string; status: string }[];
  soak?: { seconds: number; concurrency: number; heapStartMiB: number; heapEndMiB: number; tx: number; errors: number };
  targets: { target: string; met: boolean | undefined; detail: string }[];
}

const f1 = (n: number | undefined, d = 1): string => (n === undefined || !Number.isFinite(n) ? '–' : n.toFixed(d));

/** A table in columns: the first left-aligned, the others right-aligned, a rule under the header. */
function printAligned(head: string[], rows: string[][]): void {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((x) => (x[i] as string).length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(w[i] as number) : c.padStart(w[i] as number))).join('  ');
  console.log(line(head));
  console.log(w.map((n) => '-'.repeat(n)).join('  '));
  for (const x of rows) console.log(line(x));
}

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
    f1(v.p50Ms),
    f1(v.p95Ms),
    f1(v.p99Ms),
    String(v.errors),
    `${f1(v.appCpuMsPerTx, 3)} ms`,
    `${f1(v.transCpuMsPerCall, 3)} ms`,
    `${f1(v.appRssMiB, 0)} MiB`,
    `${f1(v.transRssMiB, 0)} MiB`,
  ]);
  printAligned(head, rows);
  console.log(`\nwhere the tail goes, and memory (${RUNTIME_NOTE}):`);
  const rt = runtimeRows(r);
  printAligned(rt.head, rt.rows);
  if (r.transIdleRssMiB)
    console.log(
      `trans RSS idle (before any load): ours ${f1(r.transIdleRssMiB.ts, 0)} MiB${r.transIdleRssMiB.go === undefined ? '' : `, go-zero's ${f1(r.transIdleRssMiB.go, 0)} MiB`}`,
    );
  if (r.levels.some((l) => l.ratio !== undefined)) {
    console.log(
      '\nTS / Go (tx/s), like for like (both apps NewGid + Submit), and our app with localGid (Submit only):',
    );
    console.log('  conc  whole stack  localGid row  client side  server side  ours/ceiling');
    for (const l of r.levels)
      console.log(
        `  ${String(l.concurrency).padStart(4)}  ${f1(l.ratio, 2).padStart(11)}  ${f1(l.localRatio, 2).padStart(12)}  ${f1(l.clientRatio, 2).padStart(11)}  ${f1(l.serverRatio, 2).padStart(11)}  ${f1(l.ofCeiling, 2).padStart(12)}`,
      );
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
      `\nsoak: our app, ${r.soak.seconds} s at concurrency ${r.soak.concurrency}, ${r.soak.tx} tx (${r.soak.errors} errors): heap after GC ${f1(r.soak.heapStartMiB)} → ${f1(r.soak.heapEndMiB)} MiB`,
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

export function targets(r: BenchReport): BenchReport['targets'] {
  const out: BenchReport['targets'] = [];
  const L = r.levels;
  if (L.every((l) => l.ratio !== undefined)) {
    const like = r.combos.oursLocal ? ', like for like (both apps NewGid + Submit)' : '';
    out.push({
      target: `our stack ≥ 1.0× the Go stack's tx/s at every level${like} (${r.store})`,
      met: L.every((l) => (l.ratio as number) >= 1),
      detail:
        L.map((l) => `${l.concurrency}: ${f1(l.ratio, 2)}×`).join(', ') +
        (like ? `; with localGid: ${L.map((l) => `${f1(l.localRatio, 2)}×`).join(', ')}` : ''),
    });
    const cpu = L.map(
      (l) => [l.concurrency, l.results.goTs?.transCpuMsPerCall, l.results.go?.transCpuMsPerCall] as const,
    );
    out.push({
      target: "our trans CPU per call ≤ 1.0× go-zero's",
      met: cpu.every(([, a, b]) => a !== undefined && b !== undefined && a <= b),
      detail: cpu
        .map(([c, a, b]) => `${c}: ${f1(a, 3)} vs ${f1(b, 3)} ms (${a && b ? f1(a / b, 2) : '–'}×)`)
        .join(', '),
    });
    const c1 = L.find((l) => l.concurrency === 1);
    if (c1) {
      const a = c1.results.tsGo?.p50Ms;
      const b = c1.results.go?.p50Ms;
      out.push({
        target: "our app's p50 ≤ 1.1× the Go app's at concurrency 1",
        met: a !== undefined && b !== undefined ? a <= 1.1 * b : undefined,
        detail: `${f1(a, 2)} vs ${f1(b, 2)} ms (${a && b ? f1(a / b, 2) : '–'}×)`,
      });
    }
    const c64 = L.find((l) => l.concurrency === 64);
    if (c64)
      out.push({
        target: 'our stack ≥ 0.9× the ceiling at concurrency 64',
        met: c64.ofCeiling !== undefined ? c64.ofCeiling >= 0.9 : undefined,
        detail: `${f1(c64.ofCeiling, 2)}×`,
      });
  }
  const failed = L.flatMap((l) =>
    Object.entries(l.results).map(([id, v]) => [l.concurrency, id, v?.errors ?? 0] as const),
  );
  // Our stack's failures are the target; the other combinations' are reported beside it (go-zero's trans sheds load
  // with "service overloaded" when the machine's CPU passes 90%, and dtm's WaitResult reports that to the app).
  const others = failed.filter(([, id, n]) => id !== 'ours' && n > 0);
  const ours = failed.filter(([, id, n]) => id === 'ours' && n > 0);
  out.push({
    target: '0 failed transactions at every level (our stack)',
    met: ours.length === 0,
    detail:
      (ours.map(([c, , n]) => `our stack at ${c}: ${n}`).join(', ') || 'our stack: none') +
      (others.length > 0
        ? `; elsewhere: ${others.map(([c, id, n]) => `${r.combos[id]} at ${c}: ${n}`).join(', ')}`
        : ''),
  });
  const idle = r.transIdleRssMiB?.ts;
  if (idle !== undefined)
    out.push({
      target: 'our trans RSS ≤ 60 MiB idle',
      met: idle <= 60,
      detail: `${f1(idle, 0)} MiB${r.transIdleRssMiB?.go === undefined ? '' : ` (go-zero's trans: ${f1(r.transIdleRssMiB.go, 0)} MiB)`}`,
    });
  const at64 = L.find((l) => l.concurrency === 64);
  const peaks64 = OUR_TRANS.map((id) => at64?.results[id]?.transRssPeakMiB).filter((v) => v !== undefined);
  if (peaks64.length > 0)
    out.push({
      target: 'our trans RSS ≤ 100 MiB at concurrency 64',
      met: Math.max(...peaks64) <= 100,
      detail: `peak ${f1(Math.max(...peaks64), 0)} MiB${at64?.results.go ? ` (go-zero's trans: ${f1(at64.results.go.transRssPeakMiB, 0)} MiB)` : ''}`,
    });
  if (r.soak)
    out.push({
      target: "our client's heap stays flat over the soak",
      met: r.soak.heapEndMiB - r.soak.heapStartMiB < 2,
      detail: `${f1(r.soak.heapStartMiB)} → ${f1(r.soak.heapEndMiB)} MiB after GC over ${r.soak.tx} tx`,
    });
  return out;
}

// ---------- xa's bank ----------

/** Each xa loop's two accounts start with this many cents: far more than any run moves (30 per transaction). */
const XA_BALANCE = 10n ** 15n;

/** trans's bank for --mode xa: a MariaDB of its own on a free port, its data in a temp dir removed on stop. */
interface XaBank {
  /** trans's YAML naming the bank's database (trans creates it, its tables and the seed accounts at start). */
  yaml: string;
  /** Sets the balances of the accounts of loops 0 … slots-1 (once trans has created the tables). */
  fund(slots: number): Promise<void>;
  stop(): Promise<void>;
}

async function startXaBank(): Promise<XaBank> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-xa-db-'));
  let db: Awaited<ReturnType<typeof startOwnMariadb>>;
  try {
    db = await startOwnMariadb(dir, await freePort());
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(
      `--mode xa: MariaDB did not start in ${dir} (bash scripts/setup-db.sh installs it): ${(err as Error).message}`,
    );
  }
  const { host, port, user, password } = db.server;
  const dataSource = `${user}:${password}@tcp(${host}:${port})/bench_bank?parseTime=true`;
  // The server runs in a process group of its own: a Ctrl-C or a SIGTERM to the bench would not reach it.
  const onSignal = (sig: NodeJS.Signals): void => {
    const pid = db.service.pid;
    if (pid) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    process.kill(process.pid, sig); // the default action, now that the listeners are gone
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.stderr.write(`bench: xa: MariaDB of its own at ${host}:${port} (data in ${dir})\n`);
  return {
    yaml: `Mysql:\n  DataSource: ${dataSource}\n`,
    async fund(slots) {
      const bank = openBank(parseMysqlDataSource(dataSource, 'bench --mode xa'));
      try {
        await bank.setBalances(
          Array.from({ length: slots }, (_, i) => xaUsers(i)).flatMap((us) =>
            us.map((u) => [u, XA_BALANCE] as [bigint, bigint]),
          ),
        );
      } finally {
        await bank.close();
      }
    },
    async stop() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      try {
        await db.service.kill('SIGTERM', 20_000);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * --store redis: a redis-server of the bench's own on a free port, without persistence — a run needs no `db.sh up`,
 * never touches a Redis of the user's, and its keys vanish with it.
 */
async function startOwnRedis(): Promise<{ server: { host: string; port: number }; child: Child }> {
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  const child = start(`redis :${port}`, 'redis-server', args, { keep: LOG_KEEP });
  try {
    await child.waitFor(/Ready to accept connections/, 15_000);
  } catch (err) {
    await child.stop(1000).catch(() => undefined);
    throw new Error(
      `--store redis: redis-server did not start on 127.0.0.1:${port} (bash scripts/setup-db.sh installs it): ${(err as Error).message}`,
    );
  }
  process.stderr.write(`bench: redis of its own at 127.0.0.1:${port}\n`);
  return { server: { host: '127.0.0.1', port }, child };
}

// ---------- main ----------

export async function runBench(o: BenchOptions, command: string): Promise<BenchReport> {
  const load0 = loadavg();
  if (o.compare) process.stderr.write(`bench: Go twins: ${buildGo().replace(/\n/g, '; ')}\n`);
  let stack: DtmStack | undefined;
  let ownRedis: Awaited<ReturnType<typeof startOwnRedis>> | undefined;
  const children: { stop(): Promise<void> }[] = [];
  try {
    let hosts: string[];
    let dtm: string;
    let dtmPid: number | undefined;
    let dtmHttp = o.dtmHttp;
    const errored: { combo: string; concurrency: number; gid: string }[] = [];
    if (o.etcd && o.dtm) {
      hosts = o.etcd;
      dtm = o.dtm;
    } else {
      process.stderr.write(`bench: starting etcd + dtm (store ${o.store}, free ports)…\n`);
      ownRedis = o.store === 'redis' ? await startOwnRedis() : undefined;
      // Local binaries unless DTM_TESTKIT_BACKEND asks otherwise: the figures are of this machine's dtm, and an
      // answering Docker engine (the testkit's default choice) has no images to pull here.
      stack = await startDtmStack({
        store: o.store,
        redis: ownRedis?.server,
        backend: process.env.DTM_TESTKIT_BACKEND ? undefined : 'local',
      });
      hosts = stack.etcdEndpoints;
      dtm = stack.dtmTarget;
      dtmPid = stack.pids.find((p) => comm(p) === 'dtm');
      dtmHttp = stack.dtmHttp;
    }
    const xaBank = o.mode === 'xa' ? await startXaBank() : undefined;
    if (xaBank) children.push(xaBank); // stopped after trans (children stop in reverse)
    const tag = Math.random().toString(36).slice(2, 8);
    const target = (key: string): string => `etcd://${hosts.join(',')}/${key}`;
    if (o.trans === 'dist') buildDist();
    const probeOut = tempFile('trans-runtime.json', '{"seq":0}');
    const transNodeArgs = [...(o.trans === 'dist' ? PROD_NODE_ARGS : []), ...o.transNodeOptions];
    const startT = async (lang: 'ts' | 'go'): Promise<Trans> => {
      // --cpu-prof profiles our trans too (written when it exits on SIGTERM).
      const env =
        lang === 'ts'
          ? {
              BENCH_PROBE_FILE: probeOut,
              ...(o.cpuProf ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${o.cpuProf}/trans` } : {}),
            }
          : undefined;
      const yaml = lang === 'ts' ? xaBank?.yaml : undefined;
      const t = await startTrans(lang, hosts, `bench-${lang}-${tag}`, {
        keep: LOG_KEEP,
        env,
        yaml,
        nodeArgs: [...transNodeArgs, '--import', pathToFileURL(probeScript()).href],
        script: o.trans === 'dist' ? join(root, 'apps/trans/dist/trans.js') : undefined,
      });
      children.push(t.child);
      return t;
    };
    const tsTrans = await startT('ts');
    const tsProbe = new TransProbe(tsTrans.child.pid, probeOut);
    // Every loop of every level, the warm-up's (≤ 8) and the soak's (16) gets its two funded accounts.
    await xaBank?.fund(Math.max(...o.levels, o.soakS > 0 ? 16 : 1));
    const tsWorker = await startWorker('ts', dtm, o.cpuProf, o.gid);
    children.push(tsWorker);
    const combos: Combo[] = [
      {
        id: 'ours',
        label: 'our app → our trans',
        worker: tsWorker,
        busi: target(`bench-ts-${tag}`),
        server: tsTrans.child,
        gid: o.gid,
        probe: tsProbe,
      },
    ];
    let goTransPid: number | undefined;
    if (o.compare) {
      const goTrans = await startT('go');
      goTransPid = goTrans.child.pid;
      const goWorker = await startWorker('go', dtm, undefined);
      children.push(goWorker);
      const ceilingKey = `bench-ceiling-${tag}`;
      const ceiling = start('go ceiling', join(bin, 'go-ceiling'), ['-etcd', hosts.join(','), '-key', ceilingKey]);
      children.push(ceiling);
      await ceiling.waitFor(/Starting rpc server at/, 15_000);
      combos.push(
        {
          id: 'go',
          label: 'Go app → go-zero trans',
          worker: goWorker,
          busi: target(`bench-go-${tag}`),
          server: goTrans.child,
        },
        {
          id: 'tsGo',
          label: 'our app → go-zero trans',
          worker: tsWorker,
          busi: target(`bench-go-${tag}`),
          server: goTrans.child,
          gid: 'dtm',
        },
        {
          id: 'goTs',
          label: 'Go app → our trans',
          worker: goWorker,
          busi: target(`bench-ts-${tag}`),
          server: tsTrans.child,
          probe: tsProbe,
        },
        {
          id: 'ceiling',
          label: 'ceiling: Go app → bare Go server',
          worker: goWorker,
          busi: target(ceilingKey),
          server: ceiling,
        },
        {
          id: 'oursLocal',
          label: 'our app (localGid) → our trans',
          worker: tsWorker,
          busi: target(`bench-ts-${tag}`),
          server: tsTrans.child,
          gid: 'local',
          probe: tsProbe,
        },
      );
    }
    // Idle: started, registered, no call served yet (a pod's figure before traffic).
    await new Promise((res) => setTimeout(res, 3000));
    const transIdleRssMiB = { ts: rssMiB(tsTrans.child.pid), go: rssMiB(goTransPid) };
    const levelMs = o.durationS * 1000;
    const warmMs = Math.min(1000, levelMs);
    const progress = new Progress(combos.length * (warmMs + o.levels.length * o.rounds * levelMs) + o.soakS * 1000);
    const ask = (c: Combo, concurrency: number, ms: number): Promise<LevelResult> =>
      c.worker.request<LevelResult>(
        { mode: o.mode, concurrency, durationMs: ms, busi: c.busi, gid: c.gid },
        ms + 120_000,
      );

    // Warm-up, not recorded: resolve every target, open the connections, let V8 and Go's GC settle.
    for (const c of combos) {
      const done = progress.step(`warm-up ${c.label}`, warmMs);
      await ask(c, Math.min(8, Math.max(...o.levels)), warmMs);
      done();
    }
    const report: BenchReport = {
      command,
      date: new Date().toISOString(),
      machine: machine(),
      load: { before: load0, after: [], note: '' },
      store: stack ? o.store : `running stack (${dtm})`,
      mode: o.mode,
      gid: o.gid,
      trans: { source: o.trans, nodeArgs: transNodeArgs },
      transIdleRssMiB,
      durationS: o.durationS,
      rounds: o.rounds,
      combos: Object.fromEntries(combos.map((c) => [c.id, c.label])),
      levels: [],
      targets: [],
    };
    for (const concurrency of o.levels) {
      const acc = new Map<Combo['id'], Acc>(
        combos.map((c) => [
          c.id,
          {
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
          },
        ]),
      );
      for (let round = 1; round <= o.rounds; round++)
        for (const c of combos) {
          const a = acc.get(c.id) as Acc;
          const done = progress.step(`${c.label}, concurrency ${concurrency}, round ${round}/${o.rounds}`, levelMs);
          const pids = [c.worker.child.pid, c.server.pid, dtmPid];
          resetRssPeak(c.worker.child.pid);
          resetRssPeak(c.server.pid);
          await c.probe?.snapshot(); // starts the trans's runtime figures afresh
          const before = pids.map(cpuMs);
          const r = await ask(c, concurrency, levelMs);
          const after = pids.map(cpuMs);
          // Outside the CPU window: both force a full GC.
          const transSnap = await c.probe?.snapshot();
          const appMem =
            c.worker.lang === 'ts' ? await c.worker.request<{ heapUsed: number }>({ mem: true }, 30_000) : undefined;
          done();
          a.appRssPeak = maxOf(a.appRssPeak, rssMiB(c.worker.child.pid, 'VmHWM'));
          a.transRssPeak = maxOf(a.transRssPeak, rssMiB(c.server.pid, 'VmHWM'));
          a.appRuntime = mergeRuntime(a.appRuntime, r.runtime);
          a.transRuntime = mergeRuntime(a.transRuntime, transSnap);
          if (appMem) a.appHeap = appMem.heapUsed / 2 ** 20;
          if (transSnap) a.transHeap = transSnap.heapAfterGcMiB;
          const d = after.map((v, i) =>
            v !== undefined && before[i] !== undefined ? v - (before[i] as number) : Number.NaN,
          );
          a.appCpu += d[0] as number;
          a.transCpu += d[1] as number;
          a.dtmCpu += d[2] as number;
          a.ok += r.ok;
          a.errors += r.errors;
          a.elapsedMs += r.elapsedMs;
          a.rounds.push((r.ok / r.elapsedMs) * 1000);
          for (const l of r.latUs) a.lat.push(l);
          for (const g of r.errorGids ?? []) if (a.gids.length < 5) a.gids.push(g);
          for (const s of r.errorSamples) {
            // One line each, distinct: dtm's error texts span lines and repeat.
            const line = s.replace(/\s+/g, ' ').slice(0, 240);
            if (a.samples.length < 3 && !a.samples.includes(line)) a.samples.push(line);
          }
          a.appRss = rssMiB(c.worker.child.pid);
          a.transRss = rssMiB(c.server.pid);
        }
      for (const c of combos)
        for (const gid of (acc.get(c.id) as Acc).gids) errored.push({ combo: c.label, concurrency, gid });
      const results = Object.fromEntries(
        combos.map((c) => [c.id, summarize(concurrency, acc.get(c.id) as Acc, CALLS_PER_TX[o.mode])]),
      ) as Partial<Record<Combo['id'], ComboLevel>>;
      const tps = (id: Combo['id']): number | undefined => results[id]?.txPerSec;
      const ratio = (a: Combo['id'], b: Combo['id']): number | undefined => {
        const x = tps(a);
        const y = tps(b);
        return x !== undefined && y ? x / y : undefined;
      };
      report.levels.push({
        concurrency,
        txPerSec: Object.fromEntries(combos.map((c) => [c.id, tps(c.id)])),
        ratio: ratio('ours', 'go'),
        localRatio: ratio('oursLocal', 'go'),
        clientRatio: ratio('tsGo', 'go'),
        serverRatio: ratio('goTs', 'go'),
        ofCeiling: ratio('ours', 'ceiling'),
        results,
      });
    }
    if (errored.length > 0 && dtmHttp) {
      const done = progress.step(`asking dtm what became of ${errored.length} transactions that reported an error`, 0);
      report.errorOutcomes = await outcomes(dtmHttp, errored.slice(0, 12), 60_000);
      done();
    }
    if (o.soakS > 0) {
      const ours = combos[0] as Combo;
      const concurrency = 16;
      const done = progress.step(`soak: our app, ${o.soakS} s at concurrency ${concurrency}`, o.soakS * 1000);
      const m0 = await tsWorker.request<{ heapUsed: number }>({ mem: true }, 30_000);
      const r = await ask(ours, concurrency, o.soakS * 1000);
      const m1 = await tsWorker.request<{ heapUsed: number }>({ mem: true }, 30_000);
      done();
      report.soak = {
        seconds: o.soakS,
        concurrency,
        heapStartMiB: m0.heapUsed / 2 ** 20,
        heapEndMiB: m1.heapUsed / 2 ** 20,
        tx: r.ok,
        errors: r.errors,
      };
    }
    progress.end();
    report.load.after = loadavg();
    report.load.note = `load average (1, 5, 15 min) of a ${cpus().length}-CPU machine; above ~${cpus().length} other work competed for the CPUs`;
    report.targets = targets(report);
    return report;
  } finally {
    for (const c of children.reverse()) await c.stop().catch(() => undefined);
    // A cleanup problem (e.g. store keys left behind) must not throw away the figures: say it and go on.
    await stack?.stop().catch((err: unknown) => {
      process.stderr.write(`bench: warning: stopping the stack: ${err instanceof Error ? err.message : String(err)}\n`);
    });
    await ownRedis?.child.stop().catch(() => undefined); // after dtm, whose store it is
  }
}

/** Polls dtm's HTTP API until each transaction's status is final (succeed / failed) or `ms` has passed. */
async function outcomes(
  dtmHttp: string,
  txs: { combo: string; concurrency: number; gid: string }[],
  ms: number,
): Promise<NonNullable<BenchReport['errorOutcomes']>> {
  const end = Date.now() + ms;
  const status = new Map<string, string>();
  for (;;) {
    for (const t of txs) {
      if (status.get(t.gid) === 'succeed' || status.get(t.gid) === 'failed') continue;
      try {
        const res = await fetch(`${dtmHttp}/api/dtmsvr/query?gid=${encodeURIComponent(t.gid)}`, {
          signal: AbortSignal.timeout(5000),
        });
        const body = (await res.json()) as { transaction?: { status?: string } | null };
        status.set(t.gid, body.transaction?.status ?? 'not found');
      } catch (err) {
        status.set(t.gid, `query failed: ${(err as Error).message}`);
      }
    }
    const open = txs.filter((t) => !['succeed', 'failed'].includes(status.get(t.gid) ?? ''));
    if (open.length === 0 || Date.now() > end) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  return txs.map((t) => ({ ...t, status: status.get(t.gid) ?? 'unknown' }));
}

function machine(): BenchReport['machine'] {
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

/** Writes the SVG chart and the Markdown table next to a report's JSON. */
function render(json: string, report: BenchReport): string[] {
  const base = json.replace(/\.json$/, '');
  writeFileSync(`${base}.svg`, svgChart(report));
  writeFileSync(`${base}.md`, markdownSummary(report));
  return [`${base}.svg`, `${base}.md`];
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
    console.error(`bench: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(err instanceof UsageError ? 2 : 1);
  });
}
