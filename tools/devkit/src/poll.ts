// The tests' poller: the testkit's public `waitUntil` (bounded, names what it waited for and the last error).
import { waitUntil } from '@dtm-gozero/testkit';

/**
 * Polls every `intervalMs` until `fn` returns a value other than undefined (a throw counts as "not yet"), or throws
 * after `ms` naming `what` and the last error.
 */
export async function eventually<T>(
  fn: () => T | undefined | Promise<T | undefined>,
  ms: number,
  what: string,
  intervalMs = 100,
): Promise<T> {
  let value: T | undefined;
  await waitUntil(
    async () => {
      value = await fn();
      return value !== undefined;
    },
    ms,
    what,
    undefined,
    intervalMs,
  );
  return value as T;
}

/** Polls until `check` is true, or throws after `ms` naming `what`; resolves with the ms it took. */
export async function until(check: () => boolean | Promise<boolean>, ms: number, what: string): Promise<number> {
  const t0 = Date.now();
  await waitUntil(async () => await check(), ms, what);
  return Date.now() - t0;
}
