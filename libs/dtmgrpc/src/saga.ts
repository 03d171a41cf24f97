import { type BranchCall, branchUrl, splitUrl, typedBranch, urlBranch } from './branch.ts';
import { DtmInputError } from './errors.ts';
import type { UnaryMethod } from './method.ts';
import { TransBase } from './trans-base.ts';

/** The two methods of a saga step; both receive the same request bytes. */
export interface SagaMethods<Req> {
  action: UnaryMethod<Req, unknown>;
  /** Omitted: the step needs no compensation (dtm treats an empty URL as an instant success). */
  compensate?: UnaryMethod<Req, unknown> | undefined;
}

/** One saga step as dtm stores it: two URLs and the payload both are called with. */
export interface SagaStep {
  action: BranchCall;
  /** Empty when the step has no compensation. */
  compensateUrl: string;
}

/**
 * A saga (dtm's `SagaGrpc`): dtm calls each step's action in order (or by the declared orders when concurrent);
 * when an action answers FAILURE it calls the compensations of the steps already run, in reverse order — including
 * the one of the failed step.
 *
 * ```ts
 * await new SagaGrpc(dtm, gid)
 *   .add(busiServer, { action: TransSvcService.transOut, compensate: TransSvcService.transOutRevert }, req)
 *   .add(busiServer, { action: TransSvcService.transIn, compensate: TransSvcService.transInRevert }, req)
 *   .submit();
 * ```
 */
export class SagaGrpc extends TransBase {
  readonly #steps: SagaStep[] = [];
  readonly #orders = new Map<number, number[]>();
  #concurrent = false;

  constructor(dtm: string, gid: string) {
    super(dtm, gid, 'saga');
  }

  /** Adds a step: typed action/compensate methods of a server target, or Go-style URLs with encoded bytes. */
  add<Req>(server: string, methods: SagaMethods<Req>, request: Req): this;
  add(actionUrl: string, compensateUrl: string, payload: Uint8Array): this;
  add<Req>(serverOrUrl: string, methodsOrUrl: SagaMethods<Req> | string, requestOrPayload: Req | Uint8Array): this {
    const n = this.#steps.length;
    if (typeof methodsOrUrl === 'string') {
      if (!(requestOrPayload instanceof Uint8Array)) {
        throw new DtmInputError(
          `saga ${this.gid} step ${n}: with URLs, the payload must be encoded bytes (Uint8Array)`,
        );
      }
      if (!serverOrUrl) throw new DtmInputError(`saga ${this.gid} step ${n}: the action URL is empty`);
      const action = urlBranch(serverOrUrl, requestOrPayload);
      if (methodsOrUrl !== '') splitUrl(methodsOrUrl); // validates the URL
      this.#steps.push({ action, compensateUrl: methodsOrUrl });
      return this;
    }
    if (!methodsOrUrl || typeof methodsOrUrl !== 'object' || !methodsOrUrl.action) {
      throw new DtmInputError(
        `saga ${this.gid} step ${n}: pass { action, compensate } method descriptors, e.g. { action: TransSvcService.transOut, compensate: TransSvcService.transOutRevert }`,
      );
    }
    const action = typedBranch(serverOrUrl, methodsOrUrl.action, requestOrPayload as Req);
    const compensateUrl = methodsOrUrl.compensate ? branchUrl(serverOrUrl, methodsOrUrl.compensate) : '';
    this.#steps.push({ action, compensateUrl });
    return this;
  }

  /** Lets dtm run actions in parallel; `addBranchOrder` then says which steps must succeed before which. */
  enableConcurrent(): this {
    this.#concurrent = true;
    return this;
  }

  /** Step `branch` (0-based, in `add` order) starts only after every step of `preBranches` succeeded (concurrent only). */
  addBranchOrder(branch: number, preBranches: readonly number[]): this {
    const bad = [branch, ...preBranches].filter((i) => !Number.isInteger(i) || i < 0);
    if (bad.length > 0) {
      throw new DtmInputError(`saga ${this.gid}: branch orders take 0-based step indexes, got ${bad.join(', ')}`);
    }
    this.#orders.set(branch, [...preBranches]);
    return this;
  }

  /** The steps added so far, in order. */
  get steps(): readonly SagaStep[] {
    return this.#steps;
  }

  /** Whether dtm runs the actions concurrently. */
  get concurrent(): boolean {
    return this.#concurrent;
  }

  /** Sends the saga to dtm, which then runs it; with `options.waitResult` the reply reflects dtm's first pass. */
  async submit(): Promise<void> {
    await this.call('submit', this.#request());
  }

  #request(): Parameters<TransBase['call']>[1] {
    if (this.#steps.length === 0) {
      throw new DtmInputError(`saga ${this.gid}: no steps; add at least one before submitting`);
    }
    return {
      Steps: JSON.stringify(this.#steps.map((s) => ({ action: s.action.url, compensate: s.compensateUrl }))),
      BinPayloads: this.#steps.map((s) => s.action.payload),
      CustomedData: this.#customData(),
    };
  }

  /** dtm reads concurrency and orders from CustomedData; orders are only sent (and only valid) when concurrent. */
  #customData(): string {
    if (!this.#concurrent) {
      if (this.#orders.size > 0) {
        throw new DtmInputError(
          `saga ${this.gid}: branch orders are only used by a concurrent saga; call enableConcurrent() or drop them`,
        );
      }
      return '';
    }
    const n = this.#steps.length;
    const orders: Record<string, number[]> = {};
    for (const [branch, pre] of [...this.#orders].sort(([a], [b]) => a - b)) {
      const out = [branch, ...pre].filter((i) => i >= n);
      if (out.length > 0) {
        throw new DtmInputError(
          `saga ${this.gid}: branch order ${branch} ← [${pre.join(', ')}] names step ${out.join(', ')}, but there are only ${n} steps (indexes 0..${n - 1})`,
        );
      }
      if (pre.includes(branch)) throw new DtmInputError(`saga ${this.gid}: step ${branch} cannot wait for itself`);
      orders[String(branch)] = pre;
    }
    const cycle = findCycle(this.#orders);
    if (cycle) {
      throw new DtmInputError(
        `saga ${this.gid}: branch orders form a cycle (${cycle.join(' → ')}); dtm would wait for ever`,
      );
    }
    return JSON.stringify({ concurrent: true, orders });
  }
}

/** A cycle in "step → steps it waits for", as a list of steps, or undefined. */
function findCycle(orders: ReadonlyMap<number, readonly number[]>): number[] | undefined {
  const state = new Map<number, 'visiting' | 'done'>();
  const path: number[] = [];
  const visit = (n: number): number[] | undefined => {
    if (state.get(n) === 'done') return undefined;
    if (state.get(n) === 'visiting') return [...path.slice(path.indexOf(n)), n];
    state.set(n, 'visiting');
    path.push(n);
    for (const p of orders.get(n) ?? []) {
      const c = visit(p);
      if (c) return c;
    }
    path.pop();
    state.set(n, 'done');
    return undefined;
  };
  for (const n of orders.keys()) {
    const c = visit(n);
    if (c) return c;
  }
  return undefined;
}
