import type { Metadata, ServerUnaryCall, sendUnaryData } from '@grpc/grpc-js';
import { DtmInputError, toGrpcStatus } from './errors.ts';

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
 * Wraps an async branch handler as a grpc-js unary handler. Whatever it throws is answered the way dtm reads
 * it: `DtmFailure` → ABORTED (roll back), `DtmOngoing` → FAILED_PRECONDITION (retry at the same pace), a gRPC
 * error keeps its code, anything else → UNKNOWN (retried with back-off).
 */
export function dtmHandler<Req, Res>(
  fn: (req: Req, call: ServerUnaryCall<Req, Res>) => Promise<Res>,
): (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => void {
  return (call, callback) => {
    fn(call.request, call).then(
      (res) => callback(null, res),
      (err: unknown) => callback(toGrpcStatus(err)),
    );
  };
}
