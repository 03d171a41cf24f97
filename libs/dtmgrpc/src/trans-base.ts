import { randomBytes } from 'node:crypto';
import { activeTraceHeaders, TransMeter } from '@dtm-gozero/gozero';
import { status } from '@grpc/grpc-js';
import { type CallOptions, dtmCall } from './conn.ts';
import {
  DtmFailure,
  DtmInputError,
  DtmOngoing,
  DtmRolledBack,
  DtmTopicError,
  DtmUnfinished,
  isServiceError,
} from './errors.ts';
import { type DtmBranchRequest, type DtmRequest, DtmService } from './gen/dtmgimp.ts';
import { Empty } from './gen/google/protobuf/empty.ts';

/** Transaction types dtm knows. */
export type TransType = 'msg' | 'saga' | 'tcc' | 'xa' | 'workflow';

/** Per-transaction options (seconds where a duration); unset means dtm's server setting. */
export interface TransOptions {
  /** Submit waits for dtm's first processing pass and reports its outcome. */
  waitResult?: boolean;
  timeoutToFail?: number;
  retryInterval?: number;
  branchHeaders?: Record<string, string>;
  requestTimeout?: number;
  retryLimit?: number;
  /** Client-side deadline of each call to dtm, in ms (default 10 s). */
  callTimeoutMs?: number;
  /**
   * Put the active trace context (W3C `traceparent`, `tracestate`, `baggage`) in the branch headers, so every
   * branch dtm calls joins the caller's trace (default true; dtm itself does not trace). A header the caller set
   * itself is kept.
   */
  traceBranches?: boolean;
}

type DtmRpc = 'submit' | 'prepare' | 'abort';

/** The rpc's name in errors, as dtm's service names it. */
const RPC_NAME: Record<DtmRpc, string> = { submit: 'Submit', prepare: 'Prepare', abort: 'Abort' };

/** Asks dtm for a new global transaction id. */
export async function genGid(dtm: string, opts: CallOptions = {}): Promise<string> {
  const reply = await dtmCall(dtm, DtmService.newGid, Empty.create(), 'NewGid', opts);
  return reply.Gid;
}

// dtm's gids are short UUIDs: a random (v4) UUID written in base 57 with this alphabet (no 0, 1, I, O, l), 22 characters.
const GID_ALPHABET = '23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const GID_LENGTH = 22;
const GID_POOL = 16 * 256;
let gidPool = Buffer.alloc(0);
let gidPoolAt = GID_POOL;

/**
 * A new gid made here, without a call to dtm: a random v4 UUID (122 random bits from the system's CSPRNG) in dtm's
 * own short form, e.g. `8QnG4dLw4KfFvGQ8L2Yk9x`, so it is as unique as the gids `genGid` asks dtm for and looks the
 * same in dtm's store and admin UI. dtm takes any unique gid; this saves the NewGid round trip per transaction
 * (dtm's Go client always makes it: `dtmgrpc.MustGenGid`).
 */
export function localGid(): string {
  if (gidPoolAt >= GID_POOL) {
    gidPool = randomBytes(GID_POOL);
    gidPoolAt = 0;
  }
  const b = gidPool.subarray(gidPoolAt, gidPoolAt + 16);
  gidPoolAt += 16;
  b[6] = ((b[6] as number) & 0x0f) | 0x40; // version 4
  b[8] = ((b[8] as number) & 0x3f) | 0x80; // RFC 4122 variant
  // The 128-bit number in four 32-bit limbs, divided by 57 limb by limb (rem·2³² + limb < 2⁵³ stays exact).
  const limbs = [b.readUInt32BE(0), b.readUInt32BE(4), b.readUInt32BE(8), b.readUInt32BE(12)];
  let out = '';
  for (let i = 0; i < GID_LENGTH; i++) {
    let rem = 0;
    for (let j = 0; j < 4; j++) {
      const cur = rem * 0x1_0000_0000 + (limbs[j] as number);
      limbs[j] = Math.floor(cur / 57);
      rem = cur % 57;
    }
    out = GID_ALPHABET[rem] + out;
  }
  return out;
}

/** State shared by every transaction type: gid, type, options, branch-id generator. */
export class TransBase {
  readonly dtm: string;
  readonly gid: string;
  readonly transType: TransType;
  options: TransOptions = {};
  #branchCounter = 0;
  /** dtm_client_trans_* metrics of this transaction (recorded only when metrics are on). */
  readonly #meter: TransMeter;
  readonly #parentBranchId: string;

  constructor(dtm: string, gid: string, transType: TransType, parentBranchId = '') {
    if (!dtm)
      throw new DtmInputError('dtm address is empty; pass e.g. etcd://localhost:2379/dtmservice or localhost:36790');
    if (!gid) throw new DtmInputError('gid is empty; get one with genGid(dtm)');
    this.dtm = dtm;
    this.gid = gid;
    this.transType = transType;
    this.#parentBranchId = parentBranchId;
    this.#meter = new TransMeter(transType);
  }

  /** Next sub-branch id: parent + two digits (`01`, `02`, … or `0101` when nested), as dtm's BranchIDGen. */
  newSubBranchId(): string {
    if (this.#branchCounter >= 99) throw new DtmInputError('more than 99 branches under one parent branch');
    if (this.#parentBranchId.length >= 20) throw new DtmInputError('branches nested too deep (branch id ≥ 20 chars)');
    this.#branchCounter += 1;
    return this.#parentBranchId + String(this.#branchCounter).padStart(2, '0');
  }

  /** @internal The request of a Prepare, Submit or Abort (PrepareWorkflow too): gid, type, options, `fields`. */
  protected request(fields: Partial<DtmRequest> = {}): DtmRequest {
    const o = this.options;
    return {
      Gid: this.gid,
      TransType: this.transType,
      TransOptions: {
        WaitResult: o.waitResult ?? false,
        TimeoutToFail: BigInt(o.timeoutToFail ?? 0),
        RetryInterval: BigInt(o.retryInterval ?? 0),
        BranchHeaders:
          o.traceBranches === false ? (o.branchHeaders ?? {}) : { ...activeTraceHeaders(), ...o.branchHeaders },
        RequestTimeout: BigInt(o.requestTimeout ?? 0),
        RetryLimit: BigInt(o.retryLimit ?? 0),
      },
      CustomedData: '',
      BinPayloads: [],
      QueryPrepared: '',
      Steps: '',
      ReqExtra: {},
      RollbackReason: '',
      ...fields,
    };
  }

  /** Prepare, Submit or Abort of this transaction (dtmCall), metered, and the caller's span tagged with its gid. */
  protected async call(rpc: DtmRpc, fields: Partial<DtmRequest> = {}): Promise<void> {
    const req = this.request(fields);
    if (rpc !== 'abort') this.#meter.begin();
    try {
      await dtmCall(this.dtm, DtmService[rpc], req, RPC_NAME[rpc], {
        timeoutMs: this.options.callTimeoutMs,
        // the caller's span names the transaction (find its trace by dtm.gid in Jaeger)
        spanAttributes: { 'dtm.gid': this.gid, 'dtm.trans_type': this.transType },
      });
      if (rpc !== 'prepare') this.#meter.end(rpc === 'submit' ? 'submitted' : 'aborted');
    } catch (err) {
      this.#meter.end('failed');
      throw rpc === 'submit' ? this.submitOutcome(err as Error) : err;
    }
  }

  /**
   * What a Submit error means for the transaction, with its gid: rolled back (DtmRolledBack), or not finished and
   * kept by dtm (DtmUnfinished, with dtm's words). Read from dtm's answer (dtm `process`, WaitResult): a saga's
   * "<rollback reason> FAILURE" means dtm decided the rollback; "wait result not return success" and any error of a
   * branch means dtm keeps retrying; a submitted TCC/XA only ever goes forward, so any error is "not finished".
   * No answer from dtm (unreachable, deadline) says nothing about the transaction: that error is kept as it is.
   */
  private submitOutcome(e: Error): Error {
    const raw = e.cause;
    // Without WaitResult dtm answers before any branch ran: its errors are about the request, not an outcome; a
    // topic without subscribers is refused before anything is stored.
    if (!this.options.waitResult || !isServiceError(raw) || e instanceof DtmTopicError) return e;
    if (raw.code === status.UNAVAILABLE || raw.code === status.DEADLINE_EXCEEDED) return e;
    const said = raw.details || raw.message;
    const what = `${this.transType} ${this.gid}`;
    // dtm refused the request itself (e.g. the gid is already finished): nothing was submitted
    if (/cannot sumbmit|cannot submit/.test(said)) return e;
    const decidedRollback =
      e instanceof DtmFailure && this.transType === 'saga' && !/^wait result not return success/.test(said);
    if (decidedRollback) {
      return new DtmRolledBack(this.gid, `${what} rolled back by dtm: ${said}`, { cause: raw, code: raw.code });
    }
    const pace = e instanceof DtmOngoing ? 'ONGOING' : said;
    return new DtmUnfinished(
      this.gid,
      `${what} not finished: dtm keeps it and retries its branches until it ends (dtm said: ${pace}); ask dtm for its final status before acting on it`,
      said,
      { cause: raw, code: raw.code },
    );
  }

  protected async registerBranch(req: Omit<DtmBranchRequest, 'Gid' | 'TransType'>): Promise<void> {
    await dtmCall(
      this.dtm,
      DtmService.registerBranch,
      { Gid: this.gid, TransType: this.transType, ...req },
      'RegisterBranch',
      { timeoutMs: this.options.callTimeoutMs },
    );
  }

  /**
   * @internal The shape of a TCC or XA global transaction: Prepare, `fn` (which calls the branches), Submit; if
   * `fn` throws, Abort with its message as the rollback reason (dtm then cancels / rolls back every registered
   * branch) and rethrow it.
   */
  async runGlobal(fn: (trans: this) => Promise<void>): Promise<void> {
    if (typeof fn !== 'function')
      throw new DtmInputError(`${this.transType} ${this.gid}: pass the function that calls the branches`);
    await this.call('prepare');
    try {
      await fn(this);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      try {
        await this.call('abort', { RollbackReason: reason });
      } catch (abortErr) {
        // dtm still has it prepared: it aborts it itself once TimeoutToFail passes
        throw new DtmUnfinished(
          this.gid,
          `${this.transType} ${this.gid}: ${reason}; and the abort failed too: ${(abortErr as Error).message}`,
          (abortErr as Error).message,
          { cause: err },
        );
      }
      // a branch's refusal, answered by an accepted abort: dtm rolls the whole transaction back
      if (err instanceof DtmFailure && !(err instanceof DtmRolledBack)) {
        throw new DtmRolledBack(this.gid, `${this.transType} ${this.gid} rolled back: ${reason}`, {
          cause: err,
          ...(err.code === undefined ? {} : { code: err.code }),
        });
      }
      throw err;
    }
    await this.call('submit');
  }
}
