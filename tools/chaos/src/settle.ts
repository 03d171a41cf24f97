// The bounded wait, after the chaos, until dtm has finished every transaction of the run.
import { notFinal, openInDtm, resetCronTime } from './dtm-api.ts';
import type { Options } from './options.ts';

/** How long dtm gets to finish everything after the last transfer. dtm
 * recovers one transaction at a time per instance (a few to a few dozen a second on a busy 2-core machine), and a
 * 10,000-transfer run ends with thousands waiting for it: 3 min, or 100 ms per transfer when that is longer. */
const SETTLE_MS_MIN = 180_000;
const SETTLE_MS_PER_TRANSFER = 100;
/** dtm's RetryInterval here (its smallest allowed value), in seconds. */
export const RETRY_INTERVAL_S = 10;
/** How often the settle asks dtm to make long-postponed retries due again (see resetCronTime). */
const RESET_EVERY_MS = 15_000;

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface Settled {
  /** Seconds from the end of the chaos until dtm held no unfinished transaction (or the bound ran out). */
  settleS: number;
  /** Transactions dtm's resetCronTime made due again, summed over every call; undefined with --no-reset-cron. */
  cronResets: number | undefined;
}

/**
 * Bounded wait until dtm holds no unfinished transaction of this run. Each pass counts them from dtm's list by status
 * (openInDtm); only when that says none does it ask gid by gid, and then only about the gids not yet seen final
 * (succeed/failed never change). Asking about every gid every pass loaded dtm and its store, which are busy with
 * the very recovery being waited for.
 */
export async function settle(https: string[], gids: string[], gidPrefix: string, o: Options): Promise<Settled> {
  const started = Date.now();
  const end = started + Math.max(SETTLE_MS_MIN, o.transfers * SETTLE_MS_PER_TRANSFER);
  let cronResets: number | undefined = o.resetCron ? 0 : undefined;
  let nextReset = started;
  let open = gids;
  while (Date.now() < end) {
    if (o.resetCron && Date.now() >= nextReset) {
      // Retries due within one RetryInterval are left alone: among them are the ones a cron pass is working on now.
      const n = await resetCronTime(https, RETRY_INTERVAL_S);
      process.stderr.write(
        `chaos: dtm resetCronTime made ${n ?? '? (no dtm answered)'} postponed transactions due now\n`,
      );
      cronResets = (cronResets ?? 0) + (n ?? 0);
      nextReset = Date.now() + RESET_EVERY_MS;
    }
    let unfinished = await openInDtm(https, gidPrefix, o.transfers);
    if (unfinished === 0) {
      const left = await notFinal(https, open);
      open = left.gids;
      unfinished = left.unfinished;
    }
    process.stderr.write(`chaos: settling, ${unfinished ?? '? (no dtm answered)'} transactions unfinished in dtm\n`);
    if (unfinished === 0) break;
    await sleep(2000);
  }
  return { settleS: Math.round((Date.now() - started) / 1000), cronResets };
}
