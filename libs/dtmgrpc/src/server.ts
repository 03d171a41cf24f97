import { logPrintf } from '@dtm-gozero/gozero';
import { type Metadata, type ServerUnaryCall, type sendUnaryData, status } from '@grpc/grpc-js';
import { DtmDuplicated, DtmFailure, DtmInputError, DtmOngoing, toGrpcStatus } from './errors.ts';

/** What dtm (or a client calling a try/action) tells a branch handler in gRPC metadata. */
export interface BranchInfo {
  gid: string;
  transType: string;
  branchId: string;
  op: string;
  /** The dtm address the caller uses; empty when dtm itself is the caller. */
  dtm: string;
  /** XA only: the URL dtm will call for commit/rollback. */
  phase2Url: string;
}

const first = (md: Metadata, key: string): string => {
  const v = md.get(key)[0];
  return v === undefined ? '' : v.toString();
};

/** Reads the dtm-* metadata of a branch call. Throws DtmInputError naming the missing keys when `required`. */
export function branchInfoFromMetadata(md: Metadata, required: (keyof BranchInfo)[] = []): BranchInfo {
  const info: BranchInfo = {
    gid: first(md, 'dtm-gid'),
    transType: first(md, 'dtm-trans_type'),
    branchId: first(md, 'dtm-branch_id'),
    op: first(md, 'dtm-op'),
    dtm: first(md, 'dtm-dtm'),
    phase2Url: first(md, 'dtm-phase2_url'),
  };
  const missing = required.filter((k) => info[k] === '');
  if (missing.length > 0) {
    throw new DtmInputError(`not a dtm branch call: metadata lacks ${missing.map((k) => k).join(', ')}`);
  }
  return info;
}

/** `branchInfoFromMetadata(call.metadata)` for a grpc-js server call. */
export const branchInfoFromGrpc = (call: { metadata: Metadata }, required: (keyof BranchInfo)[] = []): BranchInfo =>
  branchInfoFromMetadata(call.metadata, required);

/**
 * Whether a FAILURE answered by this op makes the global transaction roll back. Only a first phase: a saga action
 * and (through the dtm client that called it) a TCC try, an XA or workflow phase 1 (`action`) and a 2-phase
 * message's local step or back-check (op `msg`). dtm reads FAILURE from any other op — confirm, cancel, compensate,
 * commit, rollback, a msg branch's action — as an unknown result and retries it forever.
 */
export function failureRollsBack(transType: string, op: string): boolean {
  if (op === 'try' || op === 'msg') return true;
  return op === 'action' && (transType === 'saga' || transType === 'xa' || transType === 'workflow');
}

let stuck = 0;

/**
 * How many times this process answered a branch that can never succeed as it stands (a FAILURE from an op dtm does
 * not roll back on; see dtmHandler). Each is also one error log line; an operator finishes such a transaction with
 * dtm's forceStop after fixing the data, and dtm's AlertRetryLimit/AlertWebHook report it from dtm's side.
 */
export function stuckBranchCount(): number {
  return stuck;
}

/** A caller's value as a log shows it: any client can send 64 KiB of metadata, and each call must not log that much. */
function clip(v: string, max = 200): string {
  return v.length <= max ? v : `${v.slice(0, max)}…(${v.length} chars)`;
}

/**
 * The answer dtm gets for a branch handler's error, by dtm's rules: FAILURE (ABORTED) only where it rolls back
 * (failureRollsBack); a DtmFailure from a second phase becomes a transient error (INTERNAL, retried) with one
 * error log line and stuckBranchCount() + 1, since dtm would retry a FAILURE there anyway; an error that is not a
 * dtm result is logged (gid, branch, op) before it is answered.
 */
export function branchAnswer(info: BranchInfo, err: unknown): { code: status; details: string } {
  const what = `gid=${clip(info.gid) || '-'} branch=${clip(info.branchId) || '-'} op=${clip(info.op) || '-'} trans_type=${clip(info.transType) || '-'}`;
  const reason = clip(err instanceof Error ? err.message : String(err), 1000);
  if (err instanceof DtmFailure && info.op !== '' && !failureRollsBack(info.transType, info.op)) {
    stuck += 1;
    logPrintf(
      'ERROR dtm branch cannot succeed: %s reason=%s; answered as an error, so dtm retries it: fix the data, or end the transaction with dtm forceStop',
      what,
      JSON.stringify(reason),
    );
    return {
      code: status.INTERNAL,
      details: `${info.op} cannot succeed: ${reason} (a FAILURE would not roll back a ${info.op}; dtm retries it)`,
    };
  }
  if (!(err instanceof DtmFailure || err instanceof DtmOngoing || err instanceof DtmDuplicated)) {
    logPrintf('dtm branch error: %s error=%s', what, JSON.stringify(reason));
  }
  return toGrpcStatus(err);
}

/**
 * Wraps an async branch handler as a grpc-js unary handler. Whatever it throws is answered the way dtm reads
 * it (branchAnswer): `DtmFailure` → ABORTED (roll back) from a first phase, else a transient INTERNAL and a loud
 * log line; `DtmOngoing` → FAILED_PRECONDITION (retry at the same pace); `DtmInputError` (e.g. no dtm metadata) →
 * INVALID_ARGUMENT; a gRPC error keeps its code; anything else → UNKNOWN (retried with back-off), logged first.
 */
export function dtmHandler<Req, Res>(
  fn: (req: Req, call: ServerUnaryCall<Req, Res>) => Promise<Res>,
): (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => void {
  return (call, callback) => {
    let run: Promise<Res>;
    try {
      run = fn(call.request, call);
    } catch (err) {
      run = Promise.reject(err);
    }
    run.then(
      (res) => callback(null, res),
      (err: unknown) => callback(branchAnswer(branchInfoFromMetadata(call.metadata), err)),
    );
  };
}
