// One run of a workflow (dtm's `workflow.Workflow`): the steps a handler takes, each recorded in dtm as a branch
// progress (`<branch id>-<op>`) so that a resumed run replays what already finished instead of running it again.
import { BranchBarrier } from '../barrier/barrier.ts';
import { OP_ACTION, OP_COMMIT, OP_ROLLBACK } from '../barrier/core.ts';
import { type BranchCall, branchMetadata, typedBranch, urlBranch } from '../branch.ts';
import { invokeUnary } from '../conn.ts';
import { DtmError, DtmFailure, DtmInputError, fromGrpcError, isServiceError } from '../errors.ts';
import type { DtmProgress } from '../gen/dtmgimp.ts';
import { rawMethod, type UnaryMethod } from '../method.ts';
import { TransBase, type TransOptions } from '../trans-base.ts';
import type { XaDb } from '../xa/contract.ts';
import { xaStepPhase1, xaStepPhase2 } from './xa-step.ts';

/** A step's outcome as dtm records it: `succeed` (data = the result), `failed` (data = the error text), or none. */
export interface StepResult {
  status: 'succeed' | 'failed' | '';
  data: Buffer;
  error?: unknown;
}

/** A phase-2 callback (onCommit / onRollback): gets the barrier of its branch and op, e.g. to guard a compensation. */
export type WorkflowPhase2 = (bb: BranchBarrier) => Promise<unknown>;

/** Options of a workflow run: dtm's transaction options plus the Go client's `workflow.Options`. */
export interface WorkflowOptions extends TransOptions {
  /**
   * Also roll back a branch whose action failed (answered FAILURE). Off by default, as in Go: a branch that refused
   * did nothing; turn it on when a failed call may still have done its work (a timeout seen as FAILURE, say).
   */
  compensateErrorBranch?: boolean;
  /**
   * Maps an error of a gRPC branch call (or of the handler) to dtm's results; the default is the Go client's
   * `GrpcError2DtmError`: ABORTED → DtmFailure, FAILED_PRECONDITION → DtmOngoing, anything else stays an error.
   */
  grpcErrorToDtmError?: (err: unknown, context: string) => unknown;
}

const BUSINESS_OP = 'business';
const EMPTY = Buffer.alloc(0);

const toBuffer = (v: unknown): Buffer =>
  v instanceof Uint8Array ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : EMPTY;

function statusOf(err: unknown): StepResult['status'] {
  if (err === undefined) return 'succeed';
  return err instanceof DtmFailure ? 'failed' : '';
}

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

interface Phase2Item {
  branchId: string;
  fn: WorkflowPhase2;
}

/**
 * What a workflow handler gets: `newBranch()` before each step, then `onRollback` / `onCommit` / `onFinish` for the
 * step's second phase, and the step itself — a gRPC branch call (`callBranch`), local code (`do`) or a local XA
 * transaction (`doXa`). A step that throws DtmFailure makes the workflow roll back: the onRollback callbacks of the
 * steps done so far run in reverse order. When the handler returns, the onCommit callbacks run in reverse order.
 */
export class Workflow extends TransBase {
  readonly name: string;
  declare options: WorkflowOptions;
  /** Aborts the run between steps (the workflow is then left for dtm to resume). */
  readonly signal: AbortSignal | undefined;
  readonly #progresses = new Map<string, StepResult>();
  readonly #committing: Phase2Item[] = [];
  readonly #rollingBack: Phase2Item[] = [];
  #branch = '';
  #op = OP_ACTION;
  #actionAdded = false;
  #commitAdded = false;
  #rollbackAdded = false;

  /** @internal Made by WorkflowRegistry.execute. */
  constructor(dtm: string, name: string, gid: string, signal?: AbortSignal) {
    super(dtm, gid, 'workflow');
    this.name = name;
    this.signal = signal;
  }

  /** The branch id of the current step (`01`, `02`, …), empty before the first newBranch(). */
  get branchId(): string {
    return this.#branch;
  }

  /** Starts the next step: a new branch id; its phase-2 callbacks and its one action follow. */
  newBranch(): this {
    if (this.#op !== OP_ACTION) {
      throw new DtmInputError(`workflow ${this.name} ${this.gid}: newBranch() inside a phase-2 callback`);
    }
    this.#branch = this.newSubBranchId();
    this.#actionAdded = false;
    this.#commitAdded = false;
    this.#rollbackAdded = false;
    return this;
  }

  /** The current step's compensation (saga) or cancel (TCC), run if the workflow rolls back. */
  onRollback(fn: WorkflowPhase2): this {
    this.#checkPhase2('onRollback', fn, this.#rollbackAdded);
    this.#rollbackAdded = true;
    this.#rollingBack.push({ branchId: this.#branch, fn });
    return this;
  }

  /** The current step's confirm (TCC), run when the workflow succeeds. */
  onCommit(fn: WorkflowPhase2): this {
    this.#checkPhase2('onCommit', fn, this.#commitAdded);
    this.#commitAdded = true;
    this.#committing.push({ branchId: this.#branch, fn });
    return this;
  }

  /** Both: `fn(bb, isRollback)` runs when the workflow finishes either way. */
  onFinish(fn: (bb: BranchBarrier, isRollback: boolean) => Promise<unknown>): this {
    return this.onCommit((bb) => fn(bb, false)).onRollback((bb) => fn(bb, true));
  }

  /**
   * A recorded local step: `fn`'s result (bytes; anything else counts as none) is stored in dtm and returned again,
   * without running `fn`, on a resume.
   */
  async do(fn: (bb: BranchBarrier) => Promise<unknown>): Promise<Buffer> {
    const r = await this.#recorded(async (bb) => {
      try {
        return this.#local(toBuffer(await fn(bb)));
      } catch (err) {
        return this.#local(EMPTY, err);
      }
    });
    return this.#settle(r);
  }

  /**
   * A step in a local XA transaction (MySQL/MariaDB or PostgreSQL): `fn` runs inside it, and it is prepared; the
   * workflow commits it when it succeeds, or rolls it back when it fails. XA id `<gid>-<branch id>`, as in Go.
   */
  async doXa<C>(db: XaDb<C>, fn: (conn: C) => Promise<unknown>): Promise<Buffer> {
    if (!db || typeof db !== 'object' || !('mysql' in db || 'postgres' in db)) {
      throw new DtmInputError('doXa: db must be { mysql: mysql2/promise Pool } or { postgres: pg Pool }');
    }
    const branchId = this.#branch;
    let resumable = true;
    const r = await this.#recorded(async () => {
      if (this.#progresses.has(`${branchId}-${BUSINESS_OP}`)) {
        // The local work was done but not prepared-and-recorded before a crash: a session's unprepared XA
        // transaction dies with it, so this step cannot be finished; roll back (a prepared one, if any, too).
        resumable = false;
        return this.#local(
          EMPTY,
          new DtmFailure(`workflow ${this.gid} branch ${branchId}: xa step interrupted before prepare; rolling back`),
        );
      }
      let data: Buffer = EMPTY;
      try {
        await xaStepPhase1(
          db,
          this.gid,
          branchId,
          async (conn) => {
            data = toBuffer(await fn(conn));
          },
          () => this.#record(branchId, BUSINESS_OP, 'succeed', EMPTY),
        );
        return this.#local(data);
      } catch (err) {
        return this.#local(EMPTY, err);
      }
    });
    const phase2: WorkflowPhase2 = (bb) => xaStepPhase2(db, this.gid, bb.branchId, bb.op);
    this.#committing.push({ branchId, fn: phase2 });
    if (r.status !== 'failed' || this.options.compensateErrorBranch || !resumable) {
      this.#rollingBack.push({ branchId, fn: phase2 });
    }
    return this.#settle(r);
  }

  /**
   * A recorded gRPC branch call of the current step (the Go client's `workflow.Interceptor`): the typed method of a
   * server target (`etcd://…/trans`, `host:port`) with dtm's metadata (gid, trans type `workflow`, branch id, op).
   * Its reply is stored in dtm and decoded again on a resume. Inside a phase-2 callback it is called, not recorded.
   */
  async callBranch<Req, Res>(server: string, method: UnaryMethod<Req, Res>, request: Req): Promise<Res> {
    const b = typedBranch(server, method, request);
    const bytes = await this.#callRecorded(b);
    return method.responseDeserialize(bytes);
  }

  /** Go-style: a branch URL (`server + "/pkg.Svc/Method"`) and encoded bytes; returns the reply bytes. */
  async callBranchUrl(url: string, payload: Uint8Array): Promise<Buffer> {
    return this.#callRecorded(urlBranch(url, payload));
  }

  async #callRecorded(b: BranchCall): Promise<Buffer> {
    if (this.#op !== OP_ACTION) return this.#invoke(b);
    const r = await this.#recorded(async () => {
      try {
        return this.#local(await this.#invoke(b));
      } catch (err) {
        return this.#local(EMPTY, err);
      }
    });
    return this.#settle(r);
  }

  async #invoke(b: BranchCall): Promise<Buffer> {
    const context = `workflow ${this.gid} branch ${this.#branch} ${this.#op} ${b.url}`;
    try {
      return await invokeUnary(b.server, rawMethod(b.method), b.payload, {
        metadata: branchMetadata(this, this.#branch, this.#op, b.url),
        timeoutMs: this.options.callTimeoutMs,
      });
    } catch (err) {
      throw this.mapError(err, context);
    }
  }

  /** @internal The options' gRPC-error mapping, or the Go client's default. */
  mapError(err: unknown, context: string): unknown {
    const map = this.options.grpcErrorToDtmError;
    if (map) return map(err, context);
    return isServiceError(err) ? fromGrpcError(err, context) : err;
  }

  #local(data: Buffer, error?: unknown): StepResult {
    const status = statusOf(error);
    return { status, data: status === 'failed' ? Buffer.from(messageOf(error)) : data, error };
  }

  #settle(r: StepResult): Buffer {
    if (r.error !== undefined) throw r.error;
    return r.data;
  }

  #checkPhase2(what: string, fn: unknown, added: boolean): void {
    if (this.#op !== OP_ACTION) throw new DtmInputError(`workflow ${this.gid}: ${what}() inside a phase-2 callback`);
    if (!this.#branch) throw new DtmInputError(`workflow ${this.gid}: call newBranch() before ${what}()`);
    if (typeof fn !== 'function') throw new DtmInputError(`workflow ${this.gid}: ${what}() takes a function`);
    if (added) throw new DtmInputError(`workflow ${this.gid} branch ${this.#branch}: one ${what} per branch`);
  }

  /** Runs `fn` unless dtm holds this step's result already; records what it returned (succeed / failed). */
  async #recorded(fn: (bb: BranchBarrier) => Promise<StepResult>): Promise<StepResult> {
    const branchId = this.#branch;
    const op = this.#op;
    if (op === OP_ACTION) {
      if (!branchId) throw new DtmInputError(`workflow ${this.name} ${this.gid}: call newBranch() before each step`);
      if (this.#actionAdded) {
        throw new DtmInputError(
          `workflow ${this.gid} branch ${branchId}: one action per branch; call newBranch() before the next step`,
        );
      }
      this.#actionAdded = true;
    }
    let r = this.#progresses.get(`${branchId}-${op}`);
    if (!r) {
      this.signal?.throwIfAborted();
      r = await fn(new BranchBarrier(this.transType, this.gid, branchId, op));
      if (r.status !== '') {
        try {
          await this.#record(branchId, op, r.status, r.data);
        } catch (err) {
          r = { status: '', data: EMPTY, error: err };
        }
      }
    }
    // A branch that refused did nothing: no rollback for it unless asked (CompensateErrorBranch).
    if (op === OP_ACTION && r.status === 'failed' && !this.options.compensateErrorBranch) {
      const last = this.#rollingBack.at(-1);
      if (last && last.branchId === branchId) this.#rollingBack.pop();
    }
    return r;
  }

  /**
   * Stores a step's progress in dtm. `sync` makes dtm write it before answering, with its data: without it dtm
   * v1.19.0 queues the write, which keeps no data and is a no-op on its boltdb and redis stores — a resumed
   * workflow would run the step again.
   */
  async #record(branchId: string, op: string, status: 'succeed' | 'failed', data: Buffer): Promise<void> {
    await this.registerBranch({ BranchID: branchId, Op: op, Data: { status, op, sync: '1' }, BusiPayload: data });
  }

  /** @internal Loads the progresses dtm returned from PrepareWorkflow. */
  loadProgresses(progresses: readonly DtmProgress[]): void {
    for (const p of progresses) {
      const data = toBuffer(p.BinData);
      const failed = p.Status === 'failed';
      const error = failed ? new DtmFailure(data.toString() || 'FAILURE') : undefined;
      this.#progresses.set(`${p.BranchID}-${p.Op}`, {
        status: failed ? 'failed' : p.Status === 'succeed' ? 'succeed' : '',
        data,
        ...(failed ? { error } : {}),
      });
    }
  }

  /** @internal The second phase: commit (success) or rollback (FAILURE) callbacks, in reverse order, each recorded. */
  async runPhase2(failed: boolean): Promise<void> {
    this.#op = failed ? OP_ROLLBACK : OP_COMMIT;
    const items = failed ? this.#rollingBack : this.#committing;
    for (let i = items.length - 1; i >= 0; i--) {
      const item = items[i] as Phase2Item;
      this.#branch = item.branchId;
      const r = await this.#recorded(async (bb) => {
        try {
          await item.fn(bb);
          return this.#local(EMPTY);
        } catch (err) {
          // A second phase must finish: FAILURE there is a bug, not a result to record; dtm retries the workflow.
          const e =
            err instanceof DtmFailure
              ? new DtmError(
                  `workflow ${this.gid} branch ${item.branchId} ${this.#op}: a phase-2 callback must not answer FAILURE (it is retried until it succeeds): ${err.message}`,
                  { cause: err },
                )
              : err;
          return { status: '', data: EMPTY, error: e };
        }
      });
      this.#settle(r);
    }
  }

  /** @internal The PrepareWorkflow and Submit requests (Submit's ReqExtra carries the outcome). */
  dtmRequest(fields: Parameters<TransBase['request']>[0]): ReturnType<TransBase['request']> {
    return this.request(fields);
  }

  /** @internal */
  async callDtm(rpc: 'submit', fields: Parameters<TransBase['request']>[0]): Promise<void> {
    await this.call(rpc, fields);
  }
}
