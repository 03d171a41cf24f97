import type { Metadata } from '@grpc/grpc-js';
import { type BranchCall, branchUrl, invokeBranch, splitUrl, typedBranch, urlBranch } from './branch.ts';
import { DtmInputError } from './errors.ts';
import type { UnaryMethod } from './method.ts';
import { branchInfoFromMetadata } from './server.ts';
import { TransBase } from './trans-base.ts';

/** The three methods of a TCC branch; they share one request type. */
export interface TccMethods<Req, Res> {
  try: UnaryMethod<Req, Res>;
  confirm: UnaryMethod<Req, unknown>;
  cancel: UnaryMethod<Req, unknown>;
}

/** A TCC global transaction (dtm's `TccGrpc`); get one from `tccGlobalTransaction`. */
export class TccGrpc extends TransBase {
  constructor(dtm: string, gid: string, parentBranchId = '') {
    super(dtm, gid, 'tcc', parentBranchId);
  }

  /**
   * Registers a branch (confirm and cancel with dtm), then calls its try here, and returns the try's reply.
   * A try that fails makes `tccGlobalTransaction` abort: dtm then calls cancel of every registered branch.
   */
  async callBranch<Req, Res>(server: string, methods: TccMethods<Req, Res>, request: Req): Promise<Res> {
    // One request type for the three methods: serialized once, for the try; confirm and cancel are URLs for dtm.
    const t = typedBranch(server, methods.try, request);
    const confirmUrl = branchUrl(server, methods.confirm);
    const cancelUrl = branchUrl(server, methods.cancel);
    return this.#call(t, confirmUrl, cancelUrl, methods.try.responseDeserialize);
  }

  /** Go-style: URLs for try/confirm/cancel (`busiServer + "/trans.TransSvc/TransOut"`) and encoded bytes; returns the try's reply bytes. */
  async callBranchUrl(payload: Uint8Array, tryUrl: string, confirmUrl: string, cancelUrl: string): Promise<Buffer> {
    const t = urlBranch(tryUrl, payload);
    if (confirmUrl) splitUrl(confirmUrl);
    if (cancelUrl) splitUrl(cancelUrl);
    return this.#call(t, confirmUrl, cancelUrl, (b) => b);
  }

  async #call<Res>(
    t: BranchCall,
    confirmUrl: string,
    cancelUrl: string,
    responseDeserialize: (b: Buffer) => Res,
  ): Promise<Res> {
    const branchId = this.newSubBranchId();
    await this.registerBranch({
      BranchID: branchId,
      Op: 'try',
      Data: { confirm: confirmUrl, cancel: cancelUrl },
      BusiPayload: t.payload,
    });
    return invokeBranch(this, t, branchId, 'try', responseDeserialize);
  }
}

/**
 * Runs a TCC global transaction: Prepare, then `fn` (which calls branches), then Submit; if `fn` throws,
 * Abort (dtm cancels every registered branch) and rethrow. `custom` may set options before Prepare.
 */
export async function tccGlobalTransaction(
  dtm: string,
  gid: string,
  fn: (tcc: TccGrpc) => Promise<void>,
  custom?: (tcc: TccGrpc) => void,
): Promise<void> {
  const tcc = new TccGrpc(dtm, gid);
  custom?.(tcc);
  await tcc.runGlobal(fn);
}

/**
 * The TCC a branch handler is part of, rebuilt from the call's dtm metadata (dtm's `TccFromGrpc`): branches it
 * calls are nested under the current one (`01` → `0101`, `0102`) and confirmed or cancelled by dtm directly.
 * Only a try called by the client carries the dtm address; dtm's own calls do not, so nest from a try.
 */
export function tccFromGrpc(call: { readonly metadata: Metadata }): TccGrpc {
  const info = branchInfoFromMetadata(call.metadata, ['gid', 'branchId', 'dtm']);
  if (info.transType !== 'tcc') {
    throw new DtmInputError(`tccFromGrpc: the call belongs to a ${info.transType || 'non-dtm'} transaction, not a tcc`);
  }
  return new TccGrpc(info.dtm, info.gid, info.branchId);
}
