// Driver-independent pieces of the sub-transaction barrier: constants, the op pairing, the decision taken from the
// two insert results, the barrier table name, and the SQL barrier's algorithm over a small per-driver interface.
import { DtmDuplicated, DtmFailure } from '../errors.ts';

export const OP_TRY = 'try';
export const OP_CONFIRM = 'confirm';
export const OP_CANCEL = 'cancel';
export const OP_ACTION = 'action';
export const OP_COMPENSATE = 'compensate';
export const OP_COMMIT = 'commit';
export const OP_ROLLBACK = 'rollback';
/** The op of the 2-phase message's own local transaction (DoAndSubmit) and of its QueryPrepared check. */
export const OP_MSG = 'msg';
/** Branch id and barrier id of the msg barrier row (DoAndSubmit / QueryPrepared). */
export const MSG_BRANCH_ID = '00';
export const MSG_BARRIER_ID = '01';
/** `reason` written by QueryPrepared when it finds no committed msg row: the local transaction is void for good. */
export const REASON_ROLLBACK = 'rollback';
export const DEFAULT_BARRIER_TABLE = 'dtm_barrier.barrier';

/** What the barrier did with a call. */
export type BarrierOutcome =
  /** busi ran (and, for the SQL barriers, its transaction committed together with the barrier row). */
  | 'executed'
  /** This op already passed the barrier (a repeated delivery), or — for try/action — its cancel/compensate/rollback
   * came first (hanging prevention): busi was skipped and the call succeeds. */
  | 'duplicate'
  /** A cancel/compensate/rollback arrived before its try/action ever ran: nothing to undo, busi was skipped, the
   * call succeeds, and the marker it left makes a late try/action a no-op. */
  | 'null-compensation';

// Compensating op → the op it undoes. SQL barrier: tcc, saga, workflow.
const sqlOrigin: Readonly<Record<string, string>> = {
  [OP_CANCEL]: OP_TRY,
  [OP_COMPENSATE]: OP_ACTION,
  [OP_ROLLBACK]: OP_ACTION,
};

/** The op a compensating op undoes (`cancel`→`try`, `compensate`→`action`, `rollback`→`action`), else ''. */
export function originOp(op: string): string {
  return Object.hasOwn(sqlOrigin, op) ? (sqlOrigin[op] as string) : '';
}

/**
 * Decides from the affected-row counts of the two inserts (origin-op row first, then current-op row) what the SQL
 * barrier does. Throws DtmDuplicated for op `msg` when its row already existed.
 */
export function decide(op: string, originAffected: number, currentAffected: number): BarrierOutcome {
  if (op === OP_MSG && currentAffected === 0) throw new DtmDuplicated();
  if (originOp(op) !== '' && originAffected > 0) return 'null-compensation';
  if (currentAffected === 0) return 'duplicate';
  return 'executed';
}

/** `%02d` of the barrier's call counter, as dtm formats it (`01`, `02`, …, `100`). */
export function formatBarrierId(n: number): string {
  return String(n).padStart(2, '0');
}

const tableNamePattern = /^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$/;
let barrierTable = DEFAULT_BARRIER_TABLE;

/** Checks that a barrier table name is a plain `[schema.]table` identifier (it is spliced into SQL). */
export function checkTableName(name: string): string {
  if (!tableNamePattern.test(name)) throw new Error(`invalid barrier table name ${JSON.stringify(name)}`);
  return name;
}

/** Changes the process-wide barrier table (default `dtm_barrier.barrier`), like dtm's SetBarrierTableName. */
export function setBarrierTableName(name: string): void {
  barrierTable = checkTableName(name);
}

export function getBarrierTableName(): string {
  return barrierTable;
}

/** What the database-specific parts need from a BranchBarrier. */
export interface BarrierCore {
  readonly transType: string;
  readonly gid: string;
  readonly branchId: string;
  readonly op: string;
  /** Advances the barrier's call counter and returns the new barrier id (`01` for the first call). */
  newBarrierId(): string;
  /** The barrier table to use: the barrier's own, else the process-wide one. */
  tableName(): string;
}

/** The six columns of a barrier row, in insert order. */
export type BarrierRow = [
  transType: string,
  gid: string,
  branchId: string,
  op: string,
  barrierId: string,
  reason: string,
];

/** What the SQL barrier needs of one database on one connection or transaction. */
export interface SqlBarrierDb {
  /** Insert-if-absent of one row into `table`; resolves to the affected-row count (0 or 1). */
  insert(table: string, row: BarrierRow): Promise<number>;
  /** The `reason` of the msg row (branch `00`, op `msg`, barrier `01`) of `gid`, or undefined when there is none. */
  msgReason(table: string, gid: string): Promise<unknown>;
}

const insertRow = (db: SqlBarrierDb, table: string, row: BarrierRow): Promise<number> =>
  row[3] === '' ? Promise.resolve(0) : db.insert(table, row); // an op with no origin writes no origin row

/**
 * dtm's barrier algorithm inside a transaction the caller has begun: insert the origin-op row and the current-op
 * row, decide from their counts, run busi when due, then commit — or roll back when anything throws (the error is
 * rethrown; `onRollbackFailed` lets a pooled caller discard a connection whose transaction state is unknown).
 */
export async function sqlBarrierCall<C>(
  bb: BarrierCore,
  db: SqlBarrierDb,
  tx: { commit(): Promise<unknown>; rollback(): Promise<unknown> },
  conn: C,
  busi: (tx: C) => unknown,
  onRollbackFailed?: (err: Error) => void,
): Promise<BarrierOutcome> {
  const bid = bb.newBarrierId();
  const table = bb.tableName();
  let outcome: BarrierOutcome;
  try {
    const originAffected = await insertRow(db, table, [bb.transType, bb.gid, bb.branchId, originOp(bb.op), bid, bb.op]);
    const currentAffected = await insertRow(db, table, [bb.transType, bb.gid, bb.branchId, bb.op, bid, bb.op]);
    outcome = decide(bb.op, originAffected, currentAffected);
    if (outcome === 'executed') await busi(conn);
  } catch (err) {
    try {
      await tx.rollback();
    } catch (rollbackErr) {
      onRollbackFailed?.(rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr)));
    }
    throw err;
  }
  await tx.commit();
  return outcome;
}

/**
 * QueryPrepared of a 2-phase message: inserts (if absent) the msg row with reason `rollback`, then reads the row's
 * reason. `rollback` → throws DtmFailure (the local transaction never committed, and now never can); otherwise
 * resolves (it committed). Runs outside any transaction.
 */
export async function sqlQueryPrepared(bb: BarrierCore, db: SqlBarrierDb): Promise<void> {
  const table = bb.tableName();
  await insertRow(db, table, [bb.transType, bb.gid, MSG_BRANCH_ID, OP_MSG, MSG_BARRIER_ID, REASON_ROLLBACK]);
  const reason = await db.msgReason(table, bb.gid);
  if (reason === undefined) throw new Error(`barrier: no msg row for gid ${bb.gid} after inserting it`);
  if (reason === REASON_ROLLBACK) throw new DtmFailure();
}
