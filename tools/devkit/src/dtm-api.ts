// dtm's HTTP query API, read by the tests and the bench: no test runner needed (the integration stack's defaults are
// in ./dtm.ts).

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
 * The global transaction as dtm's HTTP query API returns it (`transaction: null` when dtm does not know it); rejects
 * when dtm does not answer within `ms` or answers an error.
 */
export async function queryTrans(dtmHttp: string, gid: string, ms = 5000): Promise<DtmTrans> {
  const res = await fetch(`${dtmHttp}/api/dtmsvr/query?gid=${encodeURIComponent(gid)}`, {
    signal: AbortSignal.timeout(ms),
  });
  if (!res.ok) throw new Error(`dtm query ${gid}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as DtmTrans;
}

/** Ends a transaction in dtm (`forceStop`: status `failed`, no more retries), as an operator would. */
export async function forceStop(dtmHttp: string, gid: string): Promise<void> {
  const res = await fetch(`${dtmHttp}/api/dtmsvr/forceStop`, {
    method: 'POST',
    body: JSON.stringify({ gid }),
    signal: AbortSignal.timeout(5000),
  });
  if (!res.ok) throw new Error(`dtm forceStop ${gid}: HTTP ${res.status} ${await res.text()}`);
}
