// The SQL barrier on MySQL / MariaDB through mysql2's promise API (`mysql2/promise`, or `pool.promise()` of a
// callback pool). Nothing is imported from mysql2 here: the shapes below are what the barrier calls, so the driver
// stays a choice of the application.
import { DtmInputError } from '../errors.ts';
import {
  type BarrierCore,
  type BarrierOutcome,
  MSG_BARRIER_ID,
  MSG_BRANCH_ID,
  OP_MSG,
  type SqlBarrierDb,
  sqlBarrierCall,
  sqlQueryPrepared,
} from './core.ts';

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

/**
 * Refuses a mysql2 *callback* pool or connection (it has `.promise()`): called without a callback, mysql2 throws
 * from inside its own event handlers, which ends the process. `what` names the parameter in the message.
 */
export function checkPromiseApi(db: unknown, what: string): void {
  const d = db as { promise?: unknown; query?: unknown } | null | undefined;
  if (d && typeof d.promise === 'function') {
    throw new DtmInputError(
      `${what} is a mysql2 callback pool or connection; pass its promise API instead: \`pool.promise()\`, or a pool created with mysql2/promise's createPool`,
    );
  }
  if (!d || typeof d.query !== 'function') {
    throw new DtmInputError(`${what} is not a mysql2/promise pool or connection (it has no query method)`);
  }
}

function affectedRows(result: unknown): number {
  const n = (result as { affectedRows?: unknown } | null)?.affectedRows;
  if (typeof n !== 'number') throw new Error('barrier: the MySQL driver returned no affectedRows (use mysql2/promise)');
  return n;
}

/** The SQL barrier's database operations on mysql2: `insert ignore` (affected rows are the signal), and a select. */
export function mysqlBarrierDb(db: MysqlQueryable): SqlBarrierDb {
  return {
    async insert(table, row) {
      const sql = `insert ignore into ${table}(trans_type, gid, branch_id, op, barrier_id, reason) values(?,?,?,?,?,?)`;
      const [result] = await db.query(sql, row);
      return affectedRows(result);
    },
    async msgReason(table, gid) {
      const sql = `select reason from ${table} where gid=? and branch_id=? and op=? and barrier_id=?`;
      const [rows] = await db.query(sql, [gid, MSG_BRANCH_ID, OP_MSG, MSG_BARRIER_ID]);
      return Array.isArray(rows) ? (rows[0] as { reason?: unknown } | undefined)?.reason : undefined;
    },
  };
}

/** The barrier inside a transaction the caller has begun on `tx` (see sqlBarrierCall); commits or rolls it back. */
export function mysqlCall<C extends MysqlTxConnection>(
  bb: BarrierCore,
  tx: C,
  busi: (tx: C) => unknown,
  onRollbackFailed?: () => void,
): Promise<BarrierOutcome> {
  checkPromiseApi(tx, 'callMysql: tx');
  return sqlBarrierCall(bb, mysqlBarrierDb(tx), tx, tx, busi, onRollbackFailed);
}

/** Takes a connection from the pool, begins a transaction and runs mysqlCall in it; the connection goes back after. */
export async function mysqlCallWithPool<C extends MysqlPoolConnection>(
  bb: BarrierCore,
  pool: MysqlPool<C>,
  busi: (tx: C) => unknown,
): Promise<BarrierOutcome> {
  checkPromiseApi(pool, 'callWithMysql: pool');
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

/** QueryPrepared of a 2-phase message (see sqlQueryPrepared); runs outside any transaction. */
export async function mysqlQueryPrepared(bb: BarrierCore, db: MysqlQueryable): Promise<void> {
  checkPromiseApi(db, 'queryPreparedMysql: db');
  return sqlQueryPrepared(bb, mysqlBarrierDb(db));
}
