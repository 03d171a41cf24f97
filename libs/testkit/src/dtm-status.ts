// dtm's HTTP query API (`GET /api/dtmsvr/query?gid=`): one query, and a bounded wait for a status.
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

/** A branch as dtm's query API returns it (`url` is left out when empty, e.g. a saga step without compensation). */
export interface DtmBranch {
  branch_id: string;
  op: string;
  status: string;
  url?: string;
  /** The payload dtm calls the branch with, base64. */
  bin_data?: string;
}

/** A global transaction as dtm's query API returns it; empty fields are left out. */
export interface DtmTrans {
  transaction: {
    status: string;
    trans_type: string;
    steps?: { action: string; compensate?: string }[];
    custom_data?: string;
    query_prepared?: string;
    rollback_reason?: string;
    /** The transaction's options as JSON text: wait_result, timeout_to_fail, retry_interval, branch_headers… */
    options?: string;
  } | null;
  branches: DtmBranch[];
}

/**
 * The global transaction as dtm's HTTP query API (`GET /api/dtmsvr/query?gid=`) returns it, `transaction: null` when
 * dtm does not know it; rejects when dtm does not answer within `ms` or answers an error.
 */
export async function queryTrans(dtmHttp: string, gid: string, ms = 5000): Promise<DtmTrans> {
  const res = await fetch(`${dtmHttp}/api/dtmsvr/query?gid=${encodeURIComponent(gid)}`, {
    signal: AbortSignal.timeout(ms),
  });
  if (!res.ok) throw new Error(`dtm query ${gid}: HTTP ${res.status} ${(await res.text()).slice(0, 200)}`);
  return (await res.json()) as DtmTrans;
}

/** The gid's status as dtm's HTTP API reports it; undefined while dtm does not know the gid. */
async function dtmStatus(dtmHttp: string, gid: string): Promise<string | undefined> {
  return (await queryTrans(dtmHttp, gid)).transaction?.status ?? undefined;
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
