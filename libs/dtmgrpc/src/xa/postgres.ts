// XA phases on PostgreSQL (pg): BEGIN … PREPARE TRANSACTION, then COMMIT / ROLLBACK PREPARED from any session.
import { OP_ACTION, OP_COMMIT, OP_ROLLBACK } from '../barrier/core.ts';
import { type PgPool, type PgPoolClient, type PgQueryable, postgresBarrierDb } from '../barrier/postgres.ts';
import { DtmError } from '../errors.ts';
import { isUnknownXid, type XaBranch, type XaBranchInfo } from './contract.ts';
import { bounded } from './wait.ts';

/** Inserts the xa barrier row (the barrier's own `on conflict do nothing` insert); 0 when it was there already. */
const insertBarrier = (db: PgQueryable, b: XaBranch, reason: string): Promise<number> =>
  postgresBarrierDb(db).insert(b.barrierTable, b.barrierRow(reason));

const pgPreparedOk = new WeakSet<object>();

/** Prepared transactions are off by default in Postgres (max_prepared_transactions = 0): say so before any work. */
async function pgCheckPrepared(pool: PgQueryable): Promise<void> {
  if (pgPreparedOk.has(pool)) return;
  const r = await bounded(
    pool.query("select current_setting('max_prepared_transactions')::int as n"),
    'xa on Postgres: reading max_prepared_transactions',
  );
  const n = Number((r.rows[0] as { n?: unknown } | undefined)?.n ?? 0);
  if (n <= 0) {
    throw new DtmError(
      'xa on Postgres needs prepared transactions, but the server has max_prepared_transactions = 0; ' +
        'start it with -c max_prepared_transactions=<n> (n ≥ the number of XA branches prepared at once, e.g. 10)',
    );
  }
  pgPreparedOk.add(pool);
}

export async function pgPhase1<C extends PgPoolClient>(
  pool: PgPool<C>,
  b: XaBranch,
  fn: (conn: C, info: XaBranchInfo) => unknown,
): Promise<void> {
  const { xid, info } = b;
  await pgCheckPrepared(pool);
  const client = await bounded(pool.connect(), `xa ${xid}: waiting for a pooled connection`, (c) =>
    c.release(new Error('late: the branch had given up on it')),
  );
  let began = false;
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    began = true;
    if ((await insertBarrier(client, b, OP_ACTION)) === 0) throw b.late();
    await fn(client, info);
    await b.register();
    // After PREPARE TRANSACTION the session is free again: the prepared transaction no longer belongs to it.
    await client.query(`PREPARE TRANSACTION '${xid}'`);
  } catch (err) {
    if (began) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackErr) {
        broken = rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr));
      }
    }
    throw err;
  } finally {
    client.release(broken);
  }
}

export async function pgPhase2(pool: PgQueryable, b: XaBranch): Promise<void> {
  const { xid, info } = b;
  try {
    const sql = `${info.op === OP_COMMIT ? 'COMMIT' : 'ROLLBACK'} PREPARED '${xid}'`;
    await bounded(pool.query(sql), `xa ${xid}: ${sql}`);
  } catch (err) {
    // 42704: no prepared transaction with this id — finished before (a repeated call), or never prepared
    if ((err as { code?: unknown })?.code !== '42704' && !isUnknownXid(err)) throw err;
  }
  if (info.op === OP_ROLLBACK) await insertBarrier(pool, b, OP_ROLLBACK);
}
