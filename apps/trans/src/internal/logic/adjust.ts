import { branchInfoFromGrpc, DtmFailure, xaLocalTransaction } from '@dtm-gozero/dtmgrpc';
import { logPrintf } from '@dtm-gozero/gozero';
import type { AdjustInfo, Response } from '@dtm-gozero/proto/trans';
import type { Metadata, ServerUnaryCall } from '@grpc/grpc-js';
import type { Pool } from 'mysql2/promise';

/**
 * Metadata key naming the methods that must answer FAILURE (`npm run app -- saga --fail` sends
 * `trans-fail: TransIn` as a dtm branch header, so dtm passes it on every branch call of that transaction).
 */
export const FAIL_HEADER = 'trans-fail';

/** Logs one line in the Go example's style, or refuses with FAILURE when the caller asked this method to fail. */
export function adjust(md: Metadata, method: string, line: string, in_: AdjustInfo): void {
  const fail = md
    .get(FAIL_HEADER)
    .flatMap((v) => v.toString().split(','))
    .map((s) => s.trim());
  if (fail.includes(method)) {
    logPrintf('%s: FAILURE (asked for by the caller)', format(line, in_));
    throw new DtmFailure(`${method}: FAILURE asked for by the caller`);
  }
  logPrintf('%s', format(line, in_));
}

const format = (line: string, in_: AdjustInfo): string =>
  line.replace('{amount}', String(in_.Amount)).replace('{user}', String(in_.UserID));

/**
 * An XA branch on the example's balances: phase 1 (op action) logs and applies `delta` × Amount to the user in a
 * local XA transaction; phase 2 (op commit / rollback, empty payload, called by dtm) finishes it and logs that.
 */
export async function xaAdjust(
  db: Pool,
  call: ServerUnaryCall<AdjustInfo, Response>,
  method: string,
  line: string,
  in_: AdjustInfo,
  delta: 1 | -1,
): Promise<void> {
  await xaLocalTransaction(call, { mysql: db }, async (conn) => {
    adjust(call.metadata, method, line, in_);
    await conn.query('UPDATE dtm_busi.user_account SET balance = balance + ? WHERE user_id = ?', [
      delta * in_.Amount,
      in_.UserID,
    ]);
  });
  const info = branchInfoFromGrpc(call);
  if (info.op === 'commit' || info.op === 'rollback') logPrintf('xa %s %s branch %s', info.op, info.gid, info.branchId);
}
