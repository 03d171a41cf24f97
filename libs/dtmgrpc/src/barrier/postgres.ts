// The SQL barrier on PostgreSQL through node-postgres (`pg`). Nothing is imported from pg here: the shapes below
// are what the barrier calls, so the driver stays a choice of the application.
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

/** Anything with pg's `query(text, values)` → `{ rowCount, rows }` (Client, PoolClient, Pool). */
export interface PgQueryable {
  query(text: string, values?: unknown[]): Promise<{ rowCount: number | null; rows: unknown[] }>;
}

/** pg PoolClient. */
export interface PgPoolClient extends PgQueryable {
  release(err?: Error | boolean): void;
}

/** pg Pool. */
export interface PgPool<C extends PgPoolClient = PgPoolClient> extends PgQueryable {
  connect(): Promise<C>;
}

/** The Postgres insert names the unique constraint; the barrier SQL creates it under this name. */
const CONSTRAINT = 'uniq_barrier';

async function insertBarrier(
  db: PgQueryable,
  table: string,
  row: [transType: string, gid: string, branchId: string, op: string, barrierId: string, reason: string],
): Promise<number> {
  if (row[3] === '') return 0;
  const sql =
    `insert into ${table}(trans_type, gid, branch_id, op, barrier_id, reason) values($1,$2,$3,$4,$5,$6) ` +
    `on conflict on constraint ${CONSTRAINT} do nothing`;
  const result = await db.query(sql, row);
  return result.rowCount ?? 0;
}

/**
 * The barrier inside a transaction the caller has begun (`BEGIN`) on `tx`: writes the barrier rows, runs busi when
 * due, then `COMMIT`s — or `ROLLBACK`s when anything throws (the error is rethrown).
 */
export async function postgresCall<C extends PgQueryable>(
  bb: BarrierCore,
  tx: C,
  busi: (tx: C) => unknown,
  onRollbackFailed?: (err: Error) => void,
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
      await tx.query('ROLLBACK');
    } catch (rollbackErr) {
      onRollbackFailed?.(rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr)));
    }
    throw err;
  }
  await tx.query('COMMIT');
  return outcome;
}

/** Checks a client out of the pool, `BEGIN`s and runs postgresCall; the client goes back after. */
export async function postgresCallWithPool<C extends PgPoolClient>(
  bb: BarrierCore,
  pool: PgPool<C>,
  busi: (tx: C) => unknown,
): Promise<BarrierOutcome> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    return await postgresCall(bb, client, busi, (err) => {
      broken = err;
    });
  } finally {
    // a client whose transaction could not be rolled back is discarded rather than reused
    client.release(broken);
  }
}

/** QueryPrepared of a 2-phase message (see mysqlQueryPrepared); runs outside any transaction. */
export async function postgresQueryPrepared(bb: BarrierCore, db: PgQueryable): Promise<void> {
  const table = bb.tableName();
  await insertBarrier(db, table, [bb.transType, bb.gid, MSG_BRANCH_ID, OP_MSG, MSG_BARRIER_ID, REASON_ROLLBACK]);
  const sql = `select reason from ${table} where gid=$1 and branch_id=$2 and op=$3 and barrier_id=$4`;
  const result = await db.query(sql, [bb.gid, MSG_BRANCH_ID, OP_MSG, MSG_BARRIER_ID]);
  const first = result.rows[0] as { reason?: unknown } | undefined;
  if (first === undefined) throw new Error(`barrier: no msg row for gid ${bb.gid} after inserting it`);
  if (first.reason === REASON_ROLLBACK) throw new DtmFailure();
}
