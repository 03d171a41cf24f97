// The money-moving branches of TransSvc: each logs the Go example's line (or refuses when the caller asked it to
// fail) and, with a database in the config, applies its effect through the bank (@dtm-gozero/bank).
import { applyEffect, checkAdjustInfo, effectOf } from '@dtm-gozero/bank';
import { barrierFromGrpc, branchInfoFromGrpc, DtmFailure } from '@dtm-gozero/dtmgrpc';
import { logPrintf } from '@dtm-gozero/gozero';
import type { AdjustInfo, Response } from '@dtm-gozero/proto/trans';
import type { Metadata, ServerUnaryCall } from '@grpc/grpc-js';
import type { ServiceContext } from '../svc/service-context.ts';

/**
 * Metadata key naming the methods that must answer FAILURE (`npm run app -- saga --fail` sends
 * `trans-fail: TransIn` as a dtm branch header, so dtm passes it on every branch call of that transaction).
 */
export const FAIL_HEADER = 'trans-fail';

/** Logs one line in the Go example's style, or refuses with FAILURE when the caller asked this method to fail. */
export function logOrRefuse(md: Metadata, method: string, line: string, in_: AdjustInfo): void {
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
 * One money-moving branch. Without a database in the config trans only logs, as the Go example does. With one, the
 * branch runs in one local transaction with dtm's barrier: barrier row, balance change (affected rows checked,
 * never below zero), ledger row, COMMIT — so a retried or late call moves money at most once.
 */
export async function bankBranch(
  svcCtx: ServiceContext,
  call: ServerUnaryCall<AdjustInfo, Response>,
  method: string,
  line: string,
  dir: 'out' | 'in',
): Promise<Response> {
  const in_ = call.request;
  if (!svcCtx.config.Bank) {
    logOrRefuse(call.metadata, method, line, in_);
    return {};
  }
  // Without dtm's metadata the library throws DtmInputError: answered INVALID_ARGUMENT by dtmHandler.
  const bb = barrierFromGrpc(call);
  const effect = effectOf(dir, bb.op);
  const bank = await svcCtx.bank();
  // The Go example's line for every call (a null compensation's too); the payload is validated inside the barrier,
  // after its duplicate and null-compensation checks (see checkAdjustInfo).
  logOrRefuse(call.metadata, method, line, in_);
  await bank.barrier(bb, async (acc) => {
    checkAdjustInfo(in_);
    await applyEffect(acc, effect, in_, { gid: bb.gid, branchId: bb.branchId, op: bb.op });
  });
  return {};
}

/**
 * An XA branch on the balances: phase 1 (op action) logs and debits or credits the user in a local XA transaction
 * (same checks and ledger row as the other modes); phase 2 (op commit / rollback, empty payload, called by dtm)
 * finishes it and logs that.
 */
export async function xaBranch(
  svcCtx: ServiceContext,
  call: ServerUnaryCall<AdjustInfo, Response>,
  method: string,
  line: string,
  dir: 'out' | 'in',
): Promise<Response> {
  const in_ = call.request;
  const bank = await svcCtx.bank();
  await bank.xa(call, async (acc, info) => {
    checkAdjustInfo(in_);
    logOrRefuse(call.metadata, method, line, in_);
    const key = { gid: info.gid, branchId: info.branchId, op: info.op };
    await applyEffect(acc, dir === 'out' ? 'debit' : 'credit', in_, key);
  });
  const info = branchInfoFromGrpc(call);
  if (info.op === 'commit' || info.op === 'rollback') logPrintf('xa %s %s branch %s', info.op, info.gid, info.branchId);
  return {};
}
