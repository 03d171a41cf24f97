// The SQL barrier on PostgreSQL through node-postgres (`pg`). Nothing is imported from pg here: the shapes below
// are what the barrier calls, so the driver stays a choice of the application.

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

/** Anything with pg's `query(text, values)` → `{ rowCount, rows }` (Client, PoolClient, Pool). */
export interface PgQueryable {
  query(text: string, values?: unknown[]): Promise<{ rowCount: number | null; rows: unknown[] }>;
}

/**
 * What marks a pg Pool (its counters): a `tx` with these is a pool, whose `query` may run each statement on another
 * connection — the barrier insert, the business SQL and COMMIT would not share one transaction.
 */
export interface NotAPool {
  totalCount?: never;
  idleCount?: never;
  waitingCount?: never;
}

/** Refuses a pool where the client of one transaction is needed (the types stop it first; this is for JS callers). */
export function refusePool(tx: object): void {
  if ('totalCount' in tx || 'idleCount' in tx || 'waitingCount' in tx) {
    throw new DtmInputError(
      'callPostgres needs the client the transaction was begun on (await pool.connect(), then BEGIN), not a pool; ' +
        'or pass the pool to callWithPostgres, which does both',
    );
  }
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

/** The SQL barrier's database operations on pg: insert with `on conflict … do nothing` (rowCount is the signal). */
export function postgresBarrierDb(db: PgQueryable): SqlBarrierDb {
  return {
    async insert(table, row) {
      const sql =
        `insert into ${table}(trans_type, gid, branch_id, op, barrier_id, reason) values($1,$2,$3,$4,$5,$6) ` +
        `on conflict on constraint ${CONSTRAINT} do nothing`;
      const result = await db.query(sql, row);
      return result.rowCount ?? 0;
    },
    async msgReason(table, gid) {
      const sql = `select reason from ${table} where gid=$1 and branch_id=$2 and op=$3 and barrier_id=$4`;
      const result = await db.query(sql, [gid, MSG_BRANCH_ID, OP_MSG, MSG_BARRIER_ID]);
      return (result.rows[0] as { reason?: unknown } | undefined)?.reason;
    },
  };
}

/** The barrier inside a transaction the caller has begun (`BEGIN`) on `tx` (see sqlBarrierCall). */
export async function postgresCall<C extends PgQueryable & NotAPool>(
  bb: BarrierCore,
  tx: C,
  busi: (tx: C) => unknown,
  onRollbackFailed?: (err: Error) => void,
): Promise<BarrierOutcome> {
  refusePool(tx);
  const end = { commit: () => tx.query('COMMIT'), rollback: () => tx.query('ROLLBACK') };
  return await sqlBarrierCall(bb, postgresBarrierDb(tx), end, tx, busi, onRollbackFailed);
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

/** QueryPrepared of a 2-phase message (see sqlQueryPrepared); runs outside any transaction. */
export function postgresQueryPrepared(bb: BarrierCore, db: PgQueryable): Promise<void> {
  return sqlQueryPrepared(bb, postgresBarrierDb(db));
}
