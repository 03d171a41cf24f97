/**
 * go-zero's `collection.RollingWindow`: `size` buckets of `intervalMs` each, the oldest reset as time moves on;
 * `forEachBucket` (go-zero's Reduce) visits the buckets still in the window, oldest first (the breaker counts runs of buckets in that
 * order). Hand-written: no maintained npm package keeps per-bucket structs on a clock like this (cockatiel's
 * breaker keeps its window private), and it is a few lines.
 */
export class RollingWindow<B> {
  readonly #buckets: B[];
  readonly #reset: (b: B) => void;
  readonly #intervalMs: number;
  readonly #ignoreCurrent: boolean;
  readonly #now: () => number;
  #offset = 0;
  #lastTime: number;

  constructor(
    newBucket: () => B,
    reset: (b: B) => void,
    size: number,
    intervalMs: number,
    opts: { ignoreCurrent?: boolean; now?: () => number } = {},
  ) {
    if (size < 1) throw new RangeError('RollingWindow size must be greater than 0');
    this.#buckets = Array.from({ length: size }, newBucket);
    this.#reset = reset;
    this.#intervalMs = intervalMs;
    this.#ignoreCurrent = opts.ignoreCurrent ?? false;
    this.#now = opts.now ?? performance.now.bind(performance);
    this.#lastTime = this.#now();
  }

  /** The bucket of the current interval, after resetting those that expired. */
  current(): B {
    this.#updateOffset();
    return this.#buckets[this.#offset] as B;
  }

  /** Visits the buckets of the window, oldest first (without the current one when `ignoreCurrent`). */
  forEachBucket(fn: (b: B) => void): void {
    const size = this.#buckets.length;
    const span = this.#span();
    const count = span === 0 && this.#ignoreCurrent ? size - 1 : size - span;
    const start = (this.#offset + span + 1) % size;
    for (let i = 0; i < count; i++) fn(this.#buckets[(start + i) % size] as B);
  }

  #span(): number {
    const n = Math.floor((this.#now() - this.#lastTime) / this.#intervalMs);
    return n >= 0 && n < this.#buckets.length ? n : this.#buckets.length;
  }

  #updateOffset(): void {
    const span = this.#span();
    if (span <= 0) return;
    const size = this.#buckets.length;
    for (let i = 0; i < span; i++) this.#reset(this.#buckets[(this.#offset + i + 1) % size] as B);
    this.#offset = (this.#offset + span) % size;
    const now = this.#now();
    // aligned to interval boundaries, as go-zero's
    this.#lastTime = now - ((now - this.#lastTime) % this.#intervalMs);
  }
}
