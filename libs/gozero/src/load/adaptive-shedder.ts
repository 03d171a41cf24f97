import { RollingWindow } from '../breaker/rolling-window.ts';
import { cpuUsage } from './cpu.ts';

// go-zero's core/load constants: a 5 s window of 50 buckets, threshold 900 millicpu.
const WINDOW_MS = 5000;
const BUCKETS = 50;
export const DEFAULT_CPU_THRESHOLD = 900;
const DEFAULT_MIN_RT = 1000;
const FLYING_BETA = 0.9;
const COOL_OFF_MS = 1000;
const CPU_MAX = 1000;
const OVERLOAD_FACTOR_LOWER_BOUND = 0.1;

interface Bucket {
  sum: number;
  count: number;
}

const newBucket = (): Bucket => ({ sum: 0, count: 0 });
const resetBucket = (b: Bucket): void => {
  b.sum = 0;
  b.count = 0;
};

export interface ShedderOptions {
  cpuThreshold?: number;
  /** The clock (ms), for tests. */
  now?: () => number;
  /** The CPU reading in millicpu, for tests (default: this process's, see cpu.ts). */
  cpu?: () => number;
  /** Called with go-zero's "dropreq, cpu: …" line when a request is dropped. */
  onDrop?: (line: string) => void;
}

/** Returned by `allow()`: say how the request ended. */
export interface ShedderPromise {
  pass(): void;
  fail(): void;
}

/**
 * go-zero's `adaptiveShedder`: while the CPU is at or over the threshold (or within 1 s of a drop made then),
 * a request is dropped when both the in-flight count and its moving average exceed what the best bucket's
 * throughput × the best bucket's latency says the service can hold (scaled down as the CPU nears 1000).
 */
export class AdaptiveShedder {
  readonly #threshold: number;
  readonly #now: () => number;
  readonly #cpu: () => number;
  readonly #onDrop: ((line: string) => void) | undefined;
  readonly #windowScale = 1000 / (WINDOW_MS / BUCKETS) / 1000;
  readonly #pass: RollingWindow<Bucket>;
  readonly #rt: RollingWindow<Bucket>;
  #flying = 0;
  #avgFlying = 0;
  #overloadTime = 0;
  #droppedRecently = false;

  constructor(opts: ShedderOptions = {}) {
    this.#threshold = opts.cpuThreshold ?? DEFAULT_CPU_THRESHOLD;
    this.#now = opts.now ?? performance.now.bind(performance);
    this.#cpu = opts.cpu ?? cpuUsage;
    this.#cpu(); // starts the meter now, as go-zero's stat package does at init: a reading is ready at the first call
    this.#onDrop = opts.onDrop;
    const o = { ignoreCurrent: true, now: this.#now };
    this.#pass = new RollingWindow(newBucket, resetBucket, BUCKETS, WINDOW_MS / BUCKETS, o);
    this.#rt = new RollingWindow(newBucket, resetBucket, BUCKETS, WINDOW_MS / BUCKETS, o);
  }

  /** A promise to settle when the request ends, or undefined: drop it (go-zero's ErrServiceOverloaded). */
  allow(): ShedderPromise | undefined {
    if (this.#shouldDrop()) {
      this.#droppedRecently = true;
      return undefined;
    }
    this.#flying++;
    const start = this.#now();
    let settled = false;
    return {
      pass: () => {
        if (settled) return;
        settled = true;
        this.#addFlying(-1);
        const rt = this.#rt.current();
        rt.sum += Math.ceil(this.#now() - start);
        rt.count++;
        const p = this.#pass.current();
        p.sum++;
        p.count++;
      },
      fail: () => {
        if (settled) return;
        settled = true;
        this.#addFlying(-1);
      },
    };
  }

  /** The figures go-zero logs with a drop. */
  stats(): { flying: number; avgFlying: number; maxPass: number; minRt: number; maxFlight: number } {
    return {
      flying: this.#flying,
      avgFlying: this.#avgFlying,
      maxPass: this.#maxPass(),
      minRt: this.#minRt(),
      maxFlight: this.#maxFlight(),
    };
  }

  #addFlying(delta: number): void {
    this.#flying += delta;
    // the average moves on completions only: it lags the in-flight count, as go-zero's
    if (delta < 0) this.#avgFlying = this.#avgFlying * FLYING_BETA + this.#flying * (1 - FLYING_BETA);
  }

  #maxPass(): number {
    let result = 1;
    this.#pass.forEachBucket((b) => {
      if (b.sum > result) result = b.sum;
    });
    return result;
  }

  #minRt(): number {
    let result = DEFAULT_MIN_RT;
    this.#rt.forEachBucket((b) => {
      if (b.count <= 0) return;
      const avg = Math.round(b.sum / b.count);
      if (avg < result) result = avg;
    });
    return result;
  }

  #maxFlight(): number {
    return Math.max(this.#maxPass() * this.#minRt() * this.#windowScale, 1);
  }

  #overloadFactor(cpu: number): number {
    const factor = (CPU_MAX - cpu) / (CPU_MAX - this.#threshold);
    return Math.min(Math.max(factor, OVERLOAD_FACTOR_LOWER_BOUND), 1);
  }

  #highThru(cpu: number): boolean {
    const maxFlight = this.#maxFlight() * this.#overloadFactor(cpu);
    return this.#avgFlying > maxFlight && this.#flying > maxFlight;
  }

  #stillHot(): boolean {
    if (!this.#droppedRecently || this.#overloadTime === 0) return false;
    if (this.#now() - this.#overloadTime < COOL_OFF_MS) return true;
    this.#droppedRecently = false;
    return false;
  }

  #systemOverloaded(cpu: number): boolean {
    if (cpu < this.#threshold) return false;
    this.#overloadTime = this.#now();
    return true;
  }

  #shouldDrop(): boolean {
    const cpu = this.#cpu();
    if (!(this.#systemOverloaded(cpu) || this.#stillHot()) || !this.#highThru(cpu)) return false;
    this.#onDrop?.(
      `dropreq, cpu: ${cpu}, maxPass: ${this.#maxPass()}, minRt: ${this.#minRt().toFixed(2)}, hot: ${this.#stillHot()}, flying: ${this.#flying}, avgFlying: ${this.#avgFlying.toFixed(2)}`,
    );
    return true;
  }
}
