// A bounded wait for a global transaction's status, read from dtm's HTTP API (`GET /api/dtmsvr/query?gid=`).
import { TestkitError } from './errors.ts';

/** The statuses after which dtm changes a global transaction no more. */
const FINAL = ['succeed', 'failed'];

/** Options of `waitForStatus`. */
export interface WaitForStatusOptions {
  /** How long to wait, in ms (default 30 000). */
  timeoutMs?: number | undefined;
  /** Pause between two queries, in ms (default 100). */
  intervalMs?: number | undefined;
}

/** The gid's status as dtm's HTTP API reports it; undefined while dtm does not know the gid. */
export async function dtmStatus(dtmHttp: string, gid: string): Promise<string | undefined> {
  const res = await fetch(`${dtmHttp}/api/dtmsvr/query?gid=${encodeURIComponent(gid)}`, {
    signal: AbortSignal.timeout(5000),
  });
  if (!res.ok) throw new Error(`HTTP ${res.status} ${(await res.text()).slice(0, 200)}`);
  const body = (await res.json()) as { transaction?: { status?: string } | null };
  return body.transaction?.status ?? undefined;
}

/**
 * Waits until dtm (its HTTP base, e.g. `stack.dtmHttp`) reports the global transaction `gid` in `status` (default:
 * either final status, `succeed` or `failed`), and returns the status reached. Rejects with a `TestkitError` when
 * the deadline passes (naming the last status seen) or when the transaction ends in another final status.
 */
export async function waitForStatus(
  dtmHttp: string,
  gid: string,
  status: string | readonly string[] = FINAL,
  options: WaitForStatusOptions = {},
): Promise<string> {
  const wanted = typeof status === 'string' ? [status] : status;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const end = Date.now() + timeoutMs;
  let last: string | undefined;
  let lastError: unknown;
  for (;;) {
    try {
      last = await dtmStatus(dtmHttp, gid);
      lastError = undefined;
      if (last !== undefined && wanted.includes(last)) return last;
      if (last !== undefined && FINAL.includes(last)) {
        throw new TestkitError(`global transaction ${gid} ended ${last}, not ${wanted.join(' or ')}`);
      }
    } catch (err) {
      if (err instanceof TestkitError) throw err;
      lastError = err;
    }
    if (Date.now() >= end) {
      const seen = lastError
        ? `dtm's API at ${dtmHttp} failed: ${(lastError as Error).message}`
        : `last status: ${last ?? 'unknown to dtm'}`;
      throw new TestkitError(`global transaction ${gid} not ${wanted.join(' or ')} within ${timeoutMs} ms (${seen})`);
    }
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 100));
  }
}
