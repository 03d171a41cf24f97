import { BranchBarrier } from './barrier/barrier.ts';
import { MSG_BRANCH_ID, OP_MSG } from './barrier/core.ts';
import { checkPromiseApi, type MysqlPool, type MysqlPoolConnection } from './barrier/mysql.ts';
import type { PgPool, PgPoolClient } from './barrier/postgres.ts';
import { type BranchCall, invokeBranch, typedBranch, urlBranch } from './branch.ts';
import { DtmFailure, DtmInputError } from './errors.ts';
import type { UnaryMethod } from './method.ts';
import { checkTopic, TOPIC_PREFIX } from './topics.ts';
import { TransBase } from './trans-base.ts';

/** The database a doAndSubmitDB local transaction runs in. */
export type BarrierDb<C> = { mysql: MysqlPool<C & MysqlPoolConnection> } | { postgres: PgPool<C & PgPoolClient> };

/**
 * A 2-phase message (dtm's `MsgGrpc`): branches are called by dtm, in order, each until it succeeds.
 *
 * ```ts
 * await new MsgGrpc(dtm, gid)
 *   .add(busiServer, TransSvcService.transOut, { Amount: 30n, UserID: 1n })
 *   .add(busiServer, TransSvcService.transIn, { Amount: 30n, UserID: 2n })
 *   .submit();
 * ```
 */
export class MsgGrpc extends TransBase {
  readonly #branches: BranchCall[] = [];
  // What Prepare and Submit send, kept as steps are added: dtm's Steps (the action URLs) and the payloads.
  readonly #actions: { action: string }[] = [];
  readonly #payloads: Buffer[] = [];

  constructor(dtm: string, gid: string) {
    super(dtm, gid, 'msg');
  }

  /** Adds a step: a typed method of a server target, or a Go-style URL with encoded bytes. */
  add<Req>(server: string, method: UnaryMethod<Req, unknown>, request: Req): this;
  add(url: string, payload: Uint8Array): this;
  add<Req>(serverOrUrl: string, methodOrPayload: UnaryMethod<Req, unknown> | Uint8Array, request?: Req): this {
    return this.#push(
      methodOrPayload instanceof Uint8Array
        ? urlBranch(serverOrUrl, methodOrPayload)
        : typedBranch(serverOrUrl, methodOrPayload, request as Req),
    );
  }

  #push(b: BranchCall): this {
    this.#branches.push(b);
    this.#actions.push({ action: b.url });
    this.#payloads.push(b.payload);
    return this;
  }

  /**
   * Adds a step sent to every URL subscribed to `topic` (dtm's `AddTopic`; see `subscribe`): encoded bytes, or a
   * ts-proto message type and a message (`addTopic('orders', AdjustInfo, { Amount: 30n, UserID: 1n })`). A topic
   * dtm does not know makes submit / prepare fail with DtmTopicError, and nothing is stored.
   */
  addTopic(topic: string, payload: Uint8Array): this;
  addTopic<M>(topic: string, type: { encode(m: M): { finish(): Uint8Array } }, message: M): this;
  addTopic<M>(
    topic: string,
    payloadOrType: Uint8Array | { encode(m: M): { finish(): Uint8Array } },
    message?: M,
  ): this {
    checkTopic(topic);
    let payload: Uint8Array;
    if (payloadOrType instanceof Uint8Array) payload = payloadOrType;
    else if (payloadOrType && typeof payloadOrType.encode === 'function') {
      try {
        payload = payloadOrType.encode(message as M).finish();
      } catch (err) {
        throw new DtmInputError(
          `msg ${this.gid} topic '${topic}': the message does not encode: ${(err as Error).message}`,
          {
            cause: err,
          },
        );
      }
    } else
      throw new DtmInputError(`msg ${this.gid} topic '${topic}': pass encoded bytes or a message type and a message`);
    const p = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    return this.#push({ url: TOPIC_PREFIX + topic, server: '', method: '', payload: p });
  }

  /** The branches added so far (URL and payload), in call order. */
  get branches(): readonly BranchCall[] {
    return this.#branches;
  }

  #noBranches(): DtmInputError {
    return new DtmInputError(`msg ${this.gid}: no branches; add at least one before submitting`);
  }

  /** First phase: dtm stores the message as prepared; `queryPrepared` is the back-check URL. */
  async prepare(queryPrepared: string): Promise<void> {
    if (this.#payloads.length === 0) throw this.#noBranches();
    const fields = { Steps: JSON.stringify(this.#actions), BinPayloads: this.#payloads, QueryPrepared: queryPrepared };
    await this.call('prepare', fields);
  }

  /** Second phase (or the only one): dtm calls every branch until each succeeds. */
  async submit(): Promise<void> {
    if (this.#payloads.length === 0) throw this.#noBranches();
    await this.call('submit', { Steps: JSON.stringify(this.#actions), BinPayloads: this.#payloads });
  }

  /** Abandons a prepared message. */
  async abort(): Promise<void> {
    await this.call('abort');
  }

  /**
   * The 2-phase message with a local step: Prepare (with `queryPrepared` as the back-check), run `busi` with
   * the msg barrier (gid, branch `00`, op `msg`), then Submit. If `busi` fails with DtmFailure → Abort. If it
   * fails otherwise (the outcome of the local step is unknown) → ask `queryPrepared` now, as dtm would later:
   * FAILURE → Abort, OK → Submit, anything else → leave it to dtm's back-check. Rethrows `busi`'s error; when that
   * Abort (or Submit) fails too, its error is attached as `abortError` (`submitError`) — dtm's back-check still
   * settles the message — instead of hiding what went wrong in the local step.
   */
  async doAndSubmit(queryPrepared: string, busi: (bb: BranchBarrier) => Promise<unknown>): Promise<void> {
    const qp = urlBranch(queryPrepared, new Uint8Array());
    const bb = new BranchBarrier(this.transType, this.gid, MSG_BRANCH_ID, OP_MSG);
    await this.prepare(queryPrepared);
    let busiErr: unknown;
    try {
      await busi(bb);
    } catch (err) {
      busiErr = err;
    }
    if (busiErr === undefined) {
      await this.submit();
      return;
    }
    if (busiErr instanceof DtmFailure) {
      await attachOnFailure(busiErr, 'abortError', () => this.abort());
      throw busiErr;
    }
    let verdict: 'ok' | 'failure' | 'unknown' = 'unknown';
    try {
      await invokeBranch(this, qp, MSG_BRANCH_ID, OP_MSG, (b) => b);
      verdict = 'ok';
    } catch (err) {
      if (err instanceof DtmFailure) verdict = 'failure';
    }
    if (verdict === 'failure') await attachOnFailure(busiErr, 'abortError', () => this.abort());
    else if (verdict === 'ok') await attachOnFailure(busiErr, 'submitError', () => this.submit());
    throw busiErr;
  }

  /**
   * doAndSubmit whose local step is `busi` inside a database transaction together with the barrier row, so the
   * message is submitted exactly when that transaction commits (MySQL/MariaDB via mysql2, or PostgreSQL via pg).
   */
  async doAndSubmitDB<C>(queryPrepared: string, db: BarrierDb<C>, busi: (tx: C) => Promise<unknown>): Promise<void> {
    // checked before Prepare: a wrong pool must not leave a prepared message behind
    if (db && 'mysql' in db) checkPromiseApi(db.mysql, 'doAndSubmitDB: db.mysql');
    await this.doAndSubmit(queryPrepared, async (bb) => {
      if ('mysql' in db) await bb.callWithMysql(db.mysql, busi as (tx: C & MysqlPoolConnection) => Promise<unknown>);
      else await bb.callWithPostgres(db.postgres, busi as (tx: C & PgPoolClient) => Promise<unknown>);
    });
  }
}

/** Runs `step`; if it fails, attaches its error to `err` under `key` rather than letting it replace `err`. */
async function attachOnFailure(
  err: unknown,
  key: 'abortError' | 'submitError',
  step: () => Promise<void>,
): Promise<void> {
  try {
    await step();
  } catch (stepErr) {
    if (err !== null && typeof err === 'object') Object.assign(err, { [key]: stepErr });
  }
}
