// A transaction read back from dtm's HTTP query API (the one dtm query of the tests), by default from the
// integration stack's dtm; the wait for a final status is the testkit's public waitForStatus.
import { waitForStatus } from '@dtm-gozero/testkit';
import { testStack } from './stack.ts';

/** dtm's gRPC address, `127.0.0.1:<port>` (direct). */
export const DTM_GRPC = testStack().dtmGrpc;
/** `etcd://127.0.0.1:<port>/dtmservice`: dtm through etcd. */
export const DTM_ETCD = testStack().dtmTarget;
/** dtm's HTTP API. */
export const DTM_HTTP = testStack().dtmHttp;

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

/** The options dtm stored for a transaction, parsed. */
export function dtmOptions(t: DtmTrans): Record<string, unknown> {
  return JSON.parse(t.transaction?.options ?? '{}') as Record<string, unknown>;
}

/** The global transaction as dtm's HTTP query API returns it (`transaction: null` when dtm does not know it). */
export async function dtmQuery(gid: string, dtmHttp = DTM_HTTP): Promise<DtmTrans> {
  const res = await fetch(`${dtmHttp}/api/dtmsvr/query?gid=${encodeURIComponent(gid)}`, {
    signal: AbortSignal.timeout(5000),
  });
  if (!res.ok) throw new Error(`dtm query ${gid}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as DtmTrans;
}

/** The transaction's status (`prepared`, `submitted`, `succeed`, `failed`, …), undefined when dtm does not know it. */
export async function dtmStatus(gid: string, dtmHttp = DTM_HTTP): Promise<string | undefined> {
  return (await dtmQuery(gid, dtmHttp)).transaction?.status;
}

/** Waits for the global transaction to reach `succeed` or `failed` and returns it with its branches. */
export async function finalTrans(gid: string, ms = 30_000, dtmHttp = DTM_HTTP): Promise<DtmTrans> {
  await waitForStatus(dtmHttp, gid, ['succeed', 'failed'], { timeoutMs: ms });
  return dtmQuery(gid, dtmHttp);
}

/** Ends a transaction in dtm (`forceStop`: status `failed`, no more retries), as an operator would. */
export async function dtmForceStop(gid: string, dtmHttp = DTM_HTTP): Promise<void> {
  const res = await fetch(`${dtmHttp}/api/dtmsvr/forceStop`, {
    method: 'POST',
    body: JSON.stringify({ gid }),
    signal: AbortSignal.timeout(5000),
  });
  if (!res.ok) throw new Error(`dtm forceStop ${gid}: HTTP ${res.status} ${await res.text()}`);
}
