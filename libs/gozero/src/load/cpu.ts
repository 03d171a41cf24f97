import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

// go-zero's core/stat: the CPU usage in millicpu (1000 = every core this service may use, busy), refreshed
// every 250 ms as a moving average with beta 0.95 (about the last 5 s).
const REFRESH_MS = 250;
const BETA = 0.95;

/**
 * How many cores the process may use: the cgroup's CPU quota when one is set (v2 `cpu.max`, v1
 * `cpu.cfs_quota_us`), else the cores it may run on — go-zero's `cpuQuota`/`cpus` divide the same way.
 */
export function cpuLimit(): number {
  const read = (f: string): string | undefined => {
    try {
      return readFileSync(f, 'utf8').trim();
    } catch {
      return undefined;
    }
  };
  const v2 = read('/sys/fs/cgroup/cpu.max')?.split(/\s+/);
  if (v2 && v2[0] !== 'max' && Number(v2[0]) > 0 && Number(v2[1]) > 0) return Number(v2[0]) / Number(v2[1]);
  const quota = Number(read('/sys/fs/cgroup/cpu/cpu.cfs_quota_us'));
  const period = Number(read('/sys/fs/cgroup/cpu/cpu.cfs_period_us'));
  if (quota > 0 && period > 0) return quota / period;
  return availableParallelism();
}

let usage = 0;
let timer: NodeJS.Timeout | undefined;
let override: (() => number) | undefined;

/**
 * The CPU this process uses (all its threads), in millicpu of `cpuLimit()`. go-zero reads its container's
 * cgroup, which in a pod is the service alone; this process's own figure is the same there and, on a shared
 * host, is not moved by the neighbours' load.
 */
export function cpuUsage(): number {
  if (override) return override();
  if (!timer) startCpuMeter();
  return usage;
}

function startCpuMeter(): void {
  const cores = cpuLimit();
  let last = process.cpuUsage();
  let lastAt = performance.now();
  timer = setInterval(() => {
    const now = performance.now();
    const cur = process.cpuUsage();
    const busyUs = cur.user - last.user + (cur.system - last.system);
    const wallUs = (now - lastAt) * 1000;
    last = cur;
    lastAt = now;
    if (wallUs <= 0) return;
    const current = Math.min(1000, (busyUs / (wallUs * cores)) * 1000);
    usage = Math.trunc(usage * BETA + current * (1 - BETA));
  }, REFRESH_MS);
  timer.unref();
}

/** Tests: a fixed CPU reading (undefined: measure again). */
export function setCpuUsageForTest(fn: (() => number) | undefined): void {
  override = fn;
}
