// XA, transaction-manager side (dtm's `XaGrpc`): the global transaction and its phase-1 branch calls. The resource-
// manager side, run in the branch's service, is local.ts (with one file per database).
import { type BranchCall, invokeBranch, typedBranch, urlBranch } from '../branch.ts';
import type { UnaryMethod } from '../method.ts';
import { TransBase } from '../trans-base.ts';

/**
 * An XA global transaction (dtm's `XaGrpc`); get one from `xaGlobalTransaction`. Each branch is a resource
 * manager service that runs its local work inside an XA transaction (`xaLocalTransaction`), prepares it and
 * registers with dtm; dtm then commits every branch on Submit, or rolls them back on Abort.
 */
export class XaGrpc extends TransBase {
  constructor(dtm: string, gid: string) {
    super(dtm, gid, 'xa');
  }

  /**
   * Calls a branch's phase 1 (op `action`) with a new branch id and returns its reply. dtm later calls the same
   * method with op `commit` or `rollback` and an empty payload. A failure makes `xaGlobalTransaction` abort.
   */
  async callBranch<Req, Res>(server: string, method: UnaryMethod<Req, Res>, request: Req): Promise<Res> {
    const b = typedBranch(server, method, request);
    return this.#call(b, method.responseDeserialize);
  }

  /** Go-style: the branch URL (`busiServer + "/busi.Busi/XaTransOut"`) and encoded bytes; returns the reply bytes. */
  async callBranchUrl(url: string, payload: Uint8Array): Promise<Buffer> {
    const b = urlBranch(url, payload);
    return this.#call(b, (bytes) => bytes);
  }

  async #call<Res>(b: BranchCall, responseDeserialize: (bytes: Buffer) => Res): Promise<Res> {
    // Phase 1 (op action); the branch's own URL goes along as the phase-2 URL dtm will call.
    return invokeBranch(this, b, this.newSubBranchId(), 'action', responseDeserialize);
  }
}

/**
 * Runs an XA global transaction: Prepare, then `fn` (which calls branches with `xa.callBranch`), then Submit —
 * dtm commits every prepared branch. If `fn` throws, Abort with its message as the rollback reason (dtm rolls
 * back every registered branch) and rethrow. `custom` may set options (waitResult, timeoutToFail…) before Prepare.
 */
export async function xaGlobalTransaction(
  dtm: string,
  gid: string,
  fn: (xa: XaGrpc) => Promise<void>,
  custom?: (xa: XaGrpc) => void,
): Promise<void> {
  const xa = new XaGrpc(dtm, gid);
  custom?.(xa);
  await xa.runGlobal(fn);
}
