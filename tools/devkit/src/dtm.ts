// A transaction read back from the integration stack's dtm (its HTTP query API, the testkit's queryTrans); the wait
// for a final status is the testkit's public waitForStatus.
import { genGid, tccGlobalTransaction } from '@dtm-gozero/dtmgrpc';
import { type DtmTrans, queryTrans, waitForStatus } from '@dtm-gozero/testkit';
import { forceStop } from './dtm-api.ts';
import { testStack } from './stack.ts';

export type { DtmBranch, DtmTrans } from '@dtm-gozero/testkit';

/** dtm's gRPC address, `127.0.0.1:<port>` (direct). */
export const DTM_GRPC = testStack().dtmGrpc;
/** `etcd://127.0.0.1:<port>/dtmservice`: dtm through etcd. */
export const DTM_ETCD = testStack().dtmTarget;
/** dtm's HTTP API. */
export const DTM_HTTP = testStack().dtmHttp;

/** The options dtm stored for a transaction, parsed. */
export function dtmOptions(t: DtmTrans): Record<string, unknown> {
  return JSON.parse(t.transaction?.options ?? '{}') as Record<string, unknown>;
}

/** The global transaction with its branches (`transaction: null` when dtm does not know it). */
export function dtmQuery(gid: string, dtmHttp = DTM_HTTP): Promise<DtmTrans> {
  return queryTrans(dtmHttp, gid);
}

/** The transaction's status (`prepared`, `submitted`, `succeed`, `failed`, …), undefined when dtm does not know it. */
export async function dtmStatus(gid: string, dtmHttp = DTM_HTTP): Promise<string | undefined> {
  return (await queryTrans(dtmHttp, gid)).transaction?.status;
}

/** Waits for the global transaction to reach `succeed` or `failed` and returns it with its branches. */
export async function finalTrans(gid: string, ms = 30_000, dtmHttp = DTM_HTTP): Promise<DtmTrans> {
  await waitForStatus(dtmHttp, gid, ['succeed', 'failed'], { timeoutMs: ms });
  return queryTrans(dtmHttp, gid);
}

/** Ends a transaction in dtm (`forceStop`: status `failed`, no more retries), as an operator would. */
export function dtmForceStop(gid: string, dtmHttp = DTM_HTTP): Promise<void> {
  return forceStop(dtmHttp, gid);
}

/** A TCC with no branches through `dtm` (a gRPC target): prepare + submit, which dtm finishes at once (`succeed`)
 * in its store; resolves with the gid. What a test of dtm's store needs, nothing more. */
export async function trivialTcc(dtm: string): Promise<string> {
  const gid = await genGid(dtm);
  await tccGlobalTransaction(
    dtm,
    gid,
    async () => {},
    (t) => {
      t.options.waitResult = true;
    },
  );
  return gid;
}
