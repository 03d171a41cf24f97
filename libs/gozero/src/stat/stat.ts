// go-zero's core/stat lines, at logx's `stat` level (stat.log in file mode; off with Log.Stat: false): the process
// usage line every minute (usage.go), and a server's request line every minute once it has seen a request
// (metrics.go: qps, drops, average, median, 90th, 99th, 99.9th).
import { GCProfiler, getHeapStatistics } from 'node:v8';
import { cpuUsage } from '../load/cpu.ts';
import { logx } from '../logx/logx.ts';

/** go-zero's logInterval and allRefreshInterval. */
export const STAT_INTERVAL_MS = 60_000;

const mib = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1);

// V8 has no counter of bytes ever allocated (Go's TotalAlloc) nor of collections (NumGC): both are summed from
// the GC profiler's per-collection heap figures, taken and restarted at each line so that it holds one interval.
let profiler: GCProfiler | undefined;
let freedBytes = 0;
let gcCount = 0;
let usageTimer: NodeJS.Timeout | undefined;
let usageEvery = 0;

function collectGc(): void {
  const report = profiler?.stop();
  for (const s of report?.statistics ?? []) {
    gcCount++;
    freedBytes += Math.max(0, s.beforeGC.heapStatistics.usedHeapSize - s.afterGC.heapStatistics.usedHeapSize);
  }
  profiler = new GCProfiler();
  profiler.start();
}

/** The usage line: `CPU: 12m, MEMORY: Alloc=…Mi, TotalAlloc=…Mi, Sys=…Mi, NumGC=…` (Sys: the resident set). */
export function usageLine(): string {
  collectGc();
  const used = getHeapStatistics().used_heap_size;
  return (
    `CPU: ${cpuUsage()}m, MEMORY: Alloc=${mib(used)}Mi, TotalAlloc=${mib(used + freedBytes)}Mi, ` +
    `Sys=${mib(process.memoryUsage.rss())}Mi, NumGC=${gcCount}`
  );
}

/** Starts the usage line (once per process, as go-zero's stat package; a new interval restarts it). */
export function startUsageStat(everyMs = STAT_INTERVAL_MS): void {
  if (usageTimer && usageEvery === everyMs) return;
  clearInterval(usageTimer);
  if (!profiler) collectGc();
  usageEvery = everyMs;
  usageTimer = setInterval(() => logx.stat(usageLine()), everyMs);
  usageTimer.unref();
}

/** The value at go-zero's rank (the smallest of the top `k`), or the largest when `k` is 0. */
function topK(desc: Float64Array, k: number): number {
  return (k > 0 ? desc[k - 1] : desc[0]) ?? 0;
}

/** One interval's request line, as go-zero's metricsContainer.Execute computes it. */
export function requestLine(name: string, durationsMs: readonly number[], drops: number, everyMs: number): string {
  const size = durationsMs.length;
  const qps = size / (everyMs / 1000);
  let avg = 0;
  let med = 0;
  let t90 = 0;
  let t99 = 0;
  let t999 = 0;
  if (size > 0) {
    // go-zero sums whole-nanosecond durations then truncates to whole ms before dividing
    avg = Math.trunc(durationsMs.reduce((a, b) => a + b, 0)) / size;
    // a typed array sorts numbers natively: a busy minute holds hundreds of thousands of calls
    const desc = Float64Array.from(durationsMs).sort().reverse();
    const fifty = size >> 1;
    const ten = Math.trunc(fifty / 5);
    const one = Math.trunc(ten / 10);
    const pointOne = Math.trunc(one / 10);
    med = topK(desc, fifty);
    t90 = fifty > 0 ? topK(desc, ten) : med;
    t99 = ten > 0 ? topK(desc, one) : t90;
    t999 = one > 0 ? topK(desc, pointOne) : t99;
  }
  const f = (n: number): string => n.toFixed(1);
  return (
    `(${name}) - qps: ${f(qps)}/s, drops: ${drops}, avg time: ${f(avg)}ms, med: ${f(med)}ms, ` +
    `90th: ${f(t90)}ms, 99th: ${f(t99)}ms, 99.9th: ${f(t999)}ms`
  );
}

/**
 * go-zero's `stat.Metrics` of a server: calls (from the Stat middleware) and drops (from the shedder) of one
 * interval, logged as one line per interval from the first of them on — also an interval without any, as go-zero.
 */
export class RequestStat {
  readonly name: string;
  readonly everyMs: number;
  #durations: number[] = [];
  #drops = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(name: string, everyMs = STAT_INTERVAL_MS) {
    this.name = name;
    this.everyMs = everyMs;
  }

  add(durationMs: number): void {
    this.#durations.push(durationMs);
    this.#start();
  }

  addDrop(): void {
    this.#drops++;
    this.#start();
  }

  #start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => this.#flush(), this.everyMs);
    this.#timer.unref();
  }

  #flush(): void {
    const line = requestLine(this.name, this.#durations, this.#drops, this.everyMs);
    this.#durations = [];
    this.#drops = 0;
    logx.stat(line);
  }

  /** The last line (go-zero flushes at shutdown), then no more. */
  stop(): void {
    if (!this.#timer) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#flush();
  }
}
