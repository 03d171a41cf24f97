// The SQL barrier on MySQL / MariaDB through mysql2's promise API (`mysql2/promise`, or `pool.promise()` of a
// callback pool). Nothing is imported from mysql2 here: the shapes below are what the barrier calls, so the driver
// stays a choice of the application.
import {
  type BarrierCore,
  type BarrierOutcome,
  decide,
  MSG_BARRIER_ID,
  MSG_BRANCH_ID,
  OP_MSG,
  originOp,
  REASON_ROLLBACK,
} from './core.ts';
import { DtmFailure } from './errors.ts';

/** Anything with mysql2/promise's `query(sql, values)` → `[result, fields]`. */
export interface MysqlQueryable {
  query(sql: string, values: unknown[]): Promise<[unknown, unknown]>;
}

/** A connection on which a transaction has been begun (mysql2/promise Connection or PoolConnection). */
export interface MysqlTxConnection extends MysqlQueryable {
  commit(): Promise<void>;
  rollback(): Promise<void>;
}

/** mysql2/promise PoolConnection. */
export interface MysqlPoolConnection extends MysqlTxConnection {
  beginTransaction(): Promise<void>;
  release(): void;
  destroy?(): void;
}

/** mysql2/promise Pool. */
export interface MysqlPool<C extends MysqlPoolConnection = MysqlPoolConnection> extends MysqlQueryable {
  getConnection(): Promise<C>;
}

function affectedRows(result: unknown): number {
  const n = (result as { affectedRows?: unknown } | null)?.affectedRows;
  if (typeof n !== 'number') throw new Error('barrier: the MySQL driver returned no affectedRows (use mysql2/promise)');
  return n;
}

/** `insert ignore` of one barrier row; the affected-row count (0 or 1) is the signal. Skipped for an empty op. */
async function insertBarrier(
  db: MysqlQueryable,
  table: string,
  row: [transType: string, gid: string, branchId: string, op: string, barrierId: string, reason: string],
): Promise<number> {
  if (row[3] === '') return 0;
  const sql = `insert ignore into ${table}(trans_type, gid, branch_id, op, barrier_id, reason) values(?,?,?,?,?,?)`;
  const [result] = await db.query(sql, row);
  return affectedRows(result);
}

/**
 * The barrier inside a transaction the caller has begun on `tx`: writes the barrier rows, runs busi when due, then
 * commits — or rolls back when anything throws (the error is rethrown). `onRollbackFailed` lets the pooled variant
 * discard a connection whose transaction state is unknown.
 */
export async function mysqlCall<C extends MysqlTxConnection>(
  bb: BarrierCore,
  tx: C,
  busi: (tx: C) => unknown,
  onRollbackFailed?: () => void,
): Promise<BarrierOutcome> {
  const bid = bb.newBarrierId();
  const table = bb.tableName();
  let outcome: BarrierOutcome;
  try {
    const originAffected = await insertBarrier(tx, table, [
      bb.transType,
      bb.gid,
      bb.branchId,
      originOp(bb.op),
      bid,
      bb.op,
    ]);
    const currentAffected = await insertBarrier(tx, table, [bb.transType, bb.gid, bb.branchId, bb.op, bid, bb.op]);
    outcome = decide(bb.op, originAffected, currentAffected);
    if (outcome === 'executed') await busi(tx);
  } catch (err) {
    try {
      await tx.rollback();
    } catch {
      onRollbackFailed?.();
    }
    throw err;
  }
  await tx.commit();
  return outcome;
}

/** Takes a connection from the pool, begins a transaction and runs mysqlCall in it; the connection goes back after. */
export async function mysqlCallWithPool<C extends MysqlPoolConnection>(
  bb: BarrierCore,
  pool: MysqlPool<C>,
  busi: (tx: C) => unknown,
): Promise<BarrierOutcome> {
  const conn = await pool.getConnection();
  let broken = false;
  try {
    await conn.beginTransaction();
    return await mysqlCall(bb, conn, busi, () => {
      broken = true;
    });
  } finally {
    if (broken && conn.destroy) conn.destroy();
    else conn.release();
  }
}

/**
 * QueryPrepared of a 2-phase message: inserts (if absent) the msg row with reason `rollback`, then reads the row's
 * reason. `rollback` → throws DtmFailure (the local transaction never committed, and now never can); otherwise
 * resolves (it committed). Runs outside any transaction.
 */
export async function mysqlQueryPrepared(bb: BarrierCore, db: MysqlQueryable): Promise<void> {
  const table = bb.tableName();
  await insertBarrier(db, table, [bb.transType, bb.gid, MSG_BRANCH_ID, OP_MSG, MSG_BARRIER_ID, REASON_ROLLBACK]);
  const sql = `select reason from ${table} where gid=? and branch_id=? and op=? and barrier_id=?`;
  const [rows] = await db.query(sql, [bb.gid, MSG_BRANCH_ID, OP_MSG, MSG_BARRIER_ID]);
  const first = Array.isArray(rows) ? (rows[0] as { reason?: unknown } | undefined) : undefined;
  if (first === undefined) throw new Error(`barrier: no msg row for gid ${bb.gid} after inserting it`);
  if (first.reason === REASON_ROLLBACK) throw new DtmFailure();
}
