// XA phases on MySQL / MariaDB (mysql2/promise): XA START … XA PREPARE on a connection of its own, then
// XA COMMIT / XA ROLLBACK from any session.
import { OP_ACTION, OP_COMMIT, OP_ROLLBACK } from '../barrier/core.ts';
import { type MysqlPool, type MysqlQueryable, mysqlBarrierDb } from '../barrier/mysql.ts';
import { DtmOngoing } from '../errors.ts';
import { isUnknownXid, type MysqlXaConnection, type XaBranch, type XaBranchInfo } from './contract.ts';
import { bounded } from './wait.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** MySQL 8 refuses XA RECOVER without XA_RECOVER_ADMIN (1227); older servers answer 1044/1142-style denials. */
const isAccessDenied = (err: unknown): boolean =>
  [1227, 1044, 1142].includes((err as { errno?: number })?.errno ?? 0) ||
  /access denied|XA_RECOVER_ADMIN/i.test(String((err as Error)?.message));

/** Inserts the xa barrier row (the barrier's own `insert ignore`); 0 when it was there already. */
const insertBarrier = (db: MysqlQueryable, b: XaBranch, reason: string): Promise<number> =>
  mysqlBarrierDb(db).insert(b.barrierTable, b.barrierRow(reason));

export async function mysqlPhase1<C extends MysqlXaConnection>(
  pool: MysqlPool<C>,
  b: XaBranch,
  fn: (conn: C, info: XaBranchInfo) => unknown,
): Promise<void> {
  const { xid, info } = b;
  const conn = await bounded(pool.getConnection(), `xa ${xid}: waiting for a pooled connection`, (c) => c.destroy());
  let started = false;
  let ended = false;
  try {
    await conn.query(`XA START '${xid}'`, []);
    started = true;
    if ((await insertBarrier(conn, b, OP_ACTION)) === 0) throw b.late();
    await fn(conn, info);
    await b.register();
    await conn.query(`XA END '${xid}'`, []);
    ended = true;
    await conn.query(`XA PREPARE '${xid}'`, []);
  } catch (err) {
    if (started) {
      try {
        if (!ended) await conn.query(`XA END '${xid}'`, []);
      } catch {
        // the rollback below (or closing the connection) still undoes the work
      }
      try {
        await conn.query(`XA ROLLBACK '${xid}'`, []);
      } catch {
        // closing the connection rolls back a transaction that is not prepared
      }
    }
    throw err;
  } finally {
    // Never reused: a MariaDB session stays bound to its prepared XA transaction until it disconnects, and only
    // then can another session (phase 2) commit or roll it back.
    conn.destroy();
  }
}

/**
 * Whether `xid` is a prepared XA transaction on the server (XA RECOVER). A user not allowed to list them (MySQL 8
 * without XA_RECOVER_ADMIN) gets dtm's Go client's rule instead: an unknown XID is a finished one.
 */
async function mysqlXaPrepared(db: MysqlQueryable, xid: string): Promise<boolean> {
  let rows: unknown;
  try {
    [rows] = await bounded(db.query('XA RECOVER', []), `xa ${xid}: XA RECOVER`);
  } catch (err) {
    if (isAccessDenied(err)) return false;
    throw err;
  }
  return (Array.isArray(rows) ? (rows as { data?: unknown; bqual_length?: unknown }[]) : []).some(
    (r) => String(r.data) === xid && Number(r.bqual_length) === 0,
  );
}

export async function mysqlPhase2(pool: MysqlQueryable, b: XaBranch): Promise<void> {
  const { xid, info } = b;
  const sql = `XA ${info.op === OP_COMMIT ? 'COMMIT' : 'ROLLBACK'} '${xid}'`;
  // A prepared transaction whose phase-1 connection has not quite closed yet answers "unknown XID" too; it is
  // still listed by XA RECOVER, so wait for it rather than take it for done (≈ 2 s: within dtm's default 3 s
  // RequestTimeout; after that, ONGOING makes dtm come back later).
  for (let attempt = 0; ; attempt++) {
    try {
      await bounded(pool.query(sql, []), `xa ${xid}: ${sql}`);
      break;
    } catch (err) {
      if (!isUnknownXid(err)) throw err;
      if (!(await mysqlXaPrepared(pool, xid))) break; // finished before (a repeated call), or never prepared
      if (attempt >= 20) {
        throw new DtmOngoing(`xa ${xid}: prepared, but still bound to its phase-1 session; ${info.op} later`, {
          cause: err,
        });
      }
      await sleep(100);
    }
  }
  if (info.op === OP_ROLLBACK) await insertBarrier(pool, b, OP_ROLLBACK);
}
