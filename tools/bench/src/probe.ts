// Where a Node process's tail latency goes: event-loop delay (perf_hooks' histogram) and GC pauses (the 'gc'
// performance entries), per bench level. The bench worker uses runtimeMonitor() directly. For our trans the bench
// loads this file with `--import` (as JavaScript it emits with node:module's stripTypeScriptTypes, so that a trans
// run from dist/ does not load type stripping for it) and BENCH_PROBE_FILE set: then SIGUSR2 writes the figures
// since the last SIGUSR2, and the heap after a full GC, to that file as one JSON object with a sequence number.
// Only node: built-ins here: the emitted file must stand alone.
import { renameSync, writeFileSync } from 'node:fs';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export interface RuntimeStats {
  /** Event-loop delay, ms: how late a 10 ms timer ran (perf_hooks' histogram, less its 10 ms interval). */
  loopP50Ms: number;
  loopP99Ms: number;
  loopMaxMs: number;
  /** GC pauses on the main thread: how many, their sum and the longest, ms. */
  gcCount: number;
  gcTotalMs: number;
  gcMaxMs: number;
}

export interface ProbeSnapshot extends RuntimeStats {
  seq: number;
  /** V8 heap used after a full GC, MiB. */
  heapAfterGcMiB: number;
}

/** Starts measuring; snapshot() returns the figures since the last reset() (or the start). */
export function runtimeMonitor(): { reset(): void; snapshot(): RuntimeStats; stop(): void } {
  // The histogram holds the intervals between its timer's runs (resolution + delay), and does not record the first
  // interval after a reset: a level's reset comes before its load, so that interval is a quiet one.
  const resolutionMs = 10;
  const h = monitorEventLoopDelay({ resolution: resolutionMs });
  h.enable();
  let gc = { count: 0, total: 0, max: 0 };
  let since = performance.now();
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (e.startTime < since) continue; // entries arrive late: a GC from before the reset (e.g. a forced one)
      gc.count++;
      gc.total += e.duration;
      gc.max = Math.max(gc.max, e.duration);
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  const ms = (ns: number): number => (Number.isFinite(ns) && h.count > 0 ? Math.max(0, ns / 1e6 - resolutionMs) : 0);
  return {
    reset() {
      since = performance.now();
      h.reset();
      gc = { count: 0, total: 0, max: 0 };
    },
    snapshot() {
      return {
        loopP50Ms: ms(h.percentile(50)),
        loopP99Ms: ms(h.percentile(99)),
        loopMaxMs: ms(h.max),
        gcCount: gc.count,
        gcTotalMs: gc.total,
        gcMaxMs: gc.max,
      };
    },
    stop() {
      h.disable();
      obs.disconnect();
    },
  };
}

/** A full GC, whether or not the process was started with --expose-gc. */
export function fullGc(): void {
  if (typeof globalThis.gc === 'function') return void globalThis.gc();
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

function installProbe(file: string): void {
  const m = runtimeMonitor();
  let seq = 0;
  process.on('SIGUSR2', () => {
    const stats = m.snapshot();
    fullGc();
    const snap: ProbeSnapshot = { ...stats, seq: ++seq, heapAfterGcMiB: process.memoryUsage().heapUsed / 2 ** 20 };
    // The forced GC's pause reaches the histogram with the next timer: reset after that, then answer.
    setTimeout(() => {
      m.reset();
      writeFileSync(`${file}.tmp`, JSON.stringify(snap));
      renameSync(`${file}.tmp`, file); // the bench never reads half a file
    }, 50);
  });
}

if (process.env.BENCH_PROBE_FILE) installProbe(process.env.BENCH_PROBE_FILE);
