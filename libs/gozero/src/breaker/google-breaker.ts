import { RollingWindow } from './rolling-window.ts';

// go-zero's core/breaker (v1.10) constants: a 10 s window of 40 buckets (250 ms each).
export const WINDOW_MS = 10_000;
export const BUCKETS = 40;
const FORCE_PASS_MS = 1000;
const K = 1.5;
const MIN_K = 1.1;
const PROTECTION = 5;

interface Bucket {
  sum: number;
  success: number;
  failure: number;
  drop: number;
}

/** What the breaker says no with: go-zero's `breaker.ErrServiceUnavailable`. */
export class BreakerOpenError extends Error {
  override name = 'BreakerOpenError';
  constructor() {
    super('circuit breaker is open');
  }
}

export interface BreakerOptions {
  /** The clock (ms), for tests. */
  now?: () => number;
  /** A number in [0, 1), for tests. */
  random?: () => number;
}

/**
 * The Google SRE client-side throttle as go-zero implements it (`googleBreaker`): a request is dropped with
 * probability max(0, (total − 5 − k·accepts) / (total + 1)), k going from 1.5 towards 1.1 as failing buckets
 * run on, scaled down by the recent run of buckets with successes only, and one request let through at least
 * every second once dropping started.
 */
export class GoogleBreaker {
  readonly #stat: RollingWindow<Bucket>;
  readonly #now: () => number;
  readonly #random: () => number;
  #lastPass = 0;

  constructor(opts: BreakerOptions = {}) {
    this.#now = opts.now ?? performance.now.bind(performance);
    this.#random = opts.random ?? Math.random;
    this.#stat = new RollingWindow<Bucket>(
      () => ({ sum: 0, success: 0, failure: 0, drop: 0 }),
      (b) => {
        b.sum = 0;
        b.success = 0;
        b.failure = 0;
        b.drop = 0;
      },
      BUCKETS,
      WINDOW_MS / BUCKETS,
      { now: this.#now },
    );
  }

  /** Whether a request may go; a refusal is counted as a drop. */
  allow(): boolean {
    if (this.#accept()) return true;
    const b = this.#stat.current();
    b.sum++;
    b.drop++;
    return false;
  }

  markSuccess(): void {
    const b = this.#stat.current();
    b.sum++;
    b.success++;
  }

  markFailure(): void {
    const b = this.#stat.current();
    b.sum++;
    b.failure++;
  }

  /** The counts go-zero's `history()` reduces the window to (oldest bucket first). */
  history(): { accepts: number; total: number; failingBuckets: number; workingBuckets: number } {
    let accepts = 0;
    let total = 0;
    let failingBuckets = 0;
    let workingBuckets = 0;
    this.#stat.forEachBucket((b) => {
      accepts += b.success;
      total += b.sum;
      if (b.failure > 0) workingBuckets = 0;
      else if (b.success > 0) workingBuckets++;
      if (b.success > 0) failingBuckets = 0;
      else if (b.failure > 0) failingBuckets++;
    });
    return { accepts, total, failingBuckets, workingBuckets };
  }

  #accept(): boolean {
    const h = this.history();
    const w = K - ((K - MIN_K) * h.failingBuckets) / BUCKETS;
    const weightedAccepts = Math.max(w, MIN_K) * h.accepts;
    let dropRatio = (h.total - PROTECTION - weightedAccepts) / (h.total + 1);
    if (dropRatio <= 0) return true;
    const now = this.#now();
    if (this.#lastPass > 0 && now - this.#lastPass > FORCE_PASS_MS) {
      this.#lastPass = now;
      return true;
    }
    dropRatio *= (BUCKETS - h.workingBuckets) / BUCKETS;
    if (this.#random() < dropRatio) return false;
    this.#lastPass = now;
    return true;
  }
}

const breakers = new Map<string, GoogleBreaker>();

/** go-zero's `breaker.GetBreaker`: one breaker per name (client: target + method; server: method), made on first use. */
export function getBreaker(name: string): GoogleBreaker {
  let b = breakers.get(name);
  if (!b) {
    b = new GoogleBreaker();
    breakers.set(name, b);
  }
  return b;
}
