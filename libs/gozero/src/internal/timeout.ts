/** Rejects after `ms` with an error naming the operation, so no network wait can hang. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** go-zero's cool-down: about `ms`, ±5 %, so that many clients do not retry in lock-step. */
export function coolDown(ms: number): Promise<void> {
  const jitter = ms * 0.05 * (Math.random() * 2 - 1);
  return new Promise((resolve) => setTimeout(resolve, ms + jitter).unref());
}
