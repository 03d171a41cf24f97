import { type BranchCall, typedBranch, urlBranch } from './branch.ts';
import { DtmInputError } from './errors.ts';
import type { UnaryMethod } from './method.ts';
import { TransBase } from './trans-base.ts';

/**
 * A 2-phase message (dtm's `MsgGrpc`): branches are called by dtm, in order, each until it succeeds.
 *
 * ```ts
 * await new MsgGrpc(dtm, gid)
 *   .add(busiServer, TransSvcService.transOut, { Amount: 30, UserID: 1 })
 *   .add(busiServer, TransSvcService.transIn, { Amount: 30, UserID: 2 })
 *   .submit();
 * ```
 */
export class MsgGrpc extends TransBase {
  readonly #branches: BranchCall[] = [];

  constructor(dtm: string, gid: string) {
    super(dtm, gid, 'msg');
  }

  /** Adds a step: a typed method of a server target, or a Go-style URL with encoded bytes. */
  add<Req>(server: string, method: UnaryMethod<Req, unknown>, request: Req): this;
  add(url: string, payload: Uint8Array): this;
  add<Req>(serverOrUrl: string, methodOrPayload: UnaryMethod<Req, unknown> | Uint8Array, request?: Req): this {
    const b =
      methodOrPayload instanceof Uint8Array
        ? urlBranch(serverOrUrl, methodOrPayload)
        : typedBranch(serverOrUrl, methodOrPayload, request as Req);
    this.#branches.push(b);
    return this;
  }

  /** The branches added so far (URL and payload), in call order. */
  get branches(): readonly BranchCall[] {
    return this.#branches;
  }

  #payload(queryPrepared = ''): Parameters<TransBase['call']>[1] {
    if (this.#branches.length === 0)
      throw new DtmInputError(`msg ${this.gid}: no branches; add at least one before submitting`);
    return this.request({
      Steps: JSON.stringify(this.#branches.map((b) => ({ action: b.url }))),
      BinPayloads: this.#branches.map((b) => b.payload),
      QueryPrepared: queryPrepared,
    });
  }

  /** First phase: dtm stores the message as prepared; `queryPrepared` is the back-check URL. */
  async prepare(queryPrepared: string): Promise<void> {
    await this.call('prepare', this.#payload(queryPrepared));
  }

  /** Second phase (or the only one): dtm calls every branch until each succeeds. */
  async submit(): Promise<void> {
    await this.call('submit', this.#payload());
  }

  /** Abandons a prepared message. */
  async abort(): Promise<void> {
    await this.call('abort', this.request());
  }
}
