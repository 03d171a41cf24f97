// The bank on PostgreSQL (pg): its tables in schema dtm_busi of the DataSource's database, dtm's barrier in schema
// dtm_barrier of the same database.
import { barrierTableDdl, xaLocalTransaction } from '@dtm-gozero/dtmgrpc';
import type Pg from 'pg';
import type { DataSource } from './datasource.ts';
import {
  type Accounts,
  accountsOn,
  type Bank,
  DB_WAIT_MS,
  dbError,
  MAX_BALANCE,
  requireDriver,
  SEED_ACCOUNTS,
} from './store.ts';

export function postgresBank(source: Extract<DataSource, { dialect: 'postgres' }>): Bank {
  const accounts = 'dtm_busi.user_account';
  const ledger = 'dtm_busi.ledger';
  const pg = requireDriver<typeof Pg>('pg');
  const pool = new pg.Pool({
    connectionString: source.url,
    max: 10,
    connectionTimeoutMillis: DB_WAIT_MS, // connect and acquire
    statement_timeout: DB_WAIT_MS,
    lock_timeout: 1000,
    query_timeout: DB_WAIT_MS + 500,
  });
  pool.on('error', () => undefined); // an idle client's lost connection is replaced on the next checkout

  const onClient = (c: Pg.PoolClient): Accounts =>
    accountsOn({
      debitRow: async (user, amount) =>
        (
          await c.query(
            `UPDATE ${accounts} SET balance = balance - $1::bigint WHERE user_id = $2::bigint AND balance >= $1::bigint`,
            [String(amount), String(user)],
          )
        ).rowCount ?? 0,
      creditRow: async (user, amount) =>
        (
          await c.query(
            `UPDATE ${accounts} SET balance = balance + $1::bigint WHERE user_id = $2::bigint AND balance <= $3::bigint`,
            [String(amount), String(user), String(MAX_BALANCE - amount)],
          )
        ).rowCount ?? 0,
      balanceOf: async (user) =>
        (await c.query(`SELECT balance::text AS balance FROM ${accounts} WHERE user_id = $1::bigint`, [String(user)]))
          .rows[0]?.balance,
      ledgerRow: async (user, delta, k) =>
        (
          await c.query(
            `INSERT INTO ${ledger} (gid, branch_id, op, user_id, delta) VALUES ($1, $2, $3, $4::bigint, $5::bigint)`,
            [k.gid, k.branchId, k.op, String(user), String(delta)],
          )
        ).rowCount ?? 0,
    });

  return {
    source,
    async migrate() {
      try {
        await createPostgresDatabase(source);
        const statements = [
          'CREATE SCHEMA IF NOT EXISTS dtm_busi',
          `CREATE TABLE IF NOT EXISTS ${accounts} (user_id BIGINT PRIMARY KEY, balance BIGINT NOT NULL DEFAULT 0)`,
          `CREATE TABLE IF NOT EXISTS ${ledger} (id BIGSERIAL PRIMARY KEY, gid VARCHAR(128) NOT NULL, ` +
            'branch_id VARCHAR(128) NOT NULL, op VARCHAR(45) NOT NULL, user_id BIGINT NOT NULL, delta BIGINT NOT NULL, ' +
            'create_time TIMESTAMPTZ DEFAULT now())',
          `CREATE INDEX IF NOT EXISTS ix_ledger_gid ON ${ledger} (gid)`,
          ...barrierTableDdl('postgres'),
          `INSERT INTO ${accounts} (user_id, balance) VALUES ${SEED_ACCOUNTS.map(([u, b]) => `(${u}, ${b})`).join(', ')} ON CONFLICT DO NOTHING`,
        ];
        for (const s of statements) await pool.query(s);
      } catch (err) {
        throw dbError(source, err);
      }
    },
    async barrier(bb, busi) {
      // One client for BEGIN, the barrier inserts, the business SQL and COMMIT (callWithPostgres checks it out).
      await bb.callWithPostgres(pool, (c) => busi(onClient(c as unknown as Pg.PoolClient)));
    },
    async queryPrepared(bb) {
      await bb.queryPreparedPostgres(pool);
    },
    async xa(call, busi) {
      await xaLocalTransaction(call, { postgres: pool }, (c, info) => busi(onClient(c), info));
    },
    async balances() {
      const r = await pool.query(`SELECT user_id::text AS u, balance::text AS b FROM ${accounts} ORDER BY user_id`);
      return new Map((r.rows as { u: string; b: string }[]).map((x) => [BigInt(x.u), BigInt(x.b)]));
    },
    async setBalances(rows) {
      for (const [u, b] of rows) {
        await pool.query(
          `INSERT INTO ${accounts} (user_id, balance) VALUES ($1::bigint, $2::bigint) ON CONFLICT (user_id) DO UPDATE SET balance = EXCLUDED.balance`,
          [String(u), String(b)],
        );
      }
    },
    async ledger(gids) {
      if (gids?.length === 0) return [];
      const r = await pool.query(
        `SELECT gid, branch_id, op, user_id::text AS u, delta::text AS d FROM ${ledger}${gids ? ' WHERE gid = ANY($1)' : ''}`,
        gids ? [gids] : [],
      );
      return (r.rows as { gid: string; branch_id: string; op: string; u: string; d: string }[]).map((x) => ({
        gid: x.gid,
        branchId: x.branch_id,
        op: x.op,
        user: BigInt(x.u),
        delta: BigInt(x.d),
      }));
    },
    async barrierRows(gids) {
      if (gids.length === 0) return [];
      const r = await pool.query('SELECT gid, branch_id, op, reason FROM dtm_barrier.barrier WHERE gid = ANY($1)', [
        gids,
      ]);
      return (r.rows as { gid: string; branch_id: string; op: string; reason: string }[]).map((x) => ({
        gid: x.gid,
        branchId: x.branch_id,
        op: x.op,
        reason: x.reason,
      }));
    },
    close: () => pool.end(),
  };
}

/** CREATE DATABASE when missing (Postgres has no IF NOT EXISTS for it), through the server's `postgres` database. */
async function createPostgresDatabase(source: Extract<DataSource, { dialect: 'postgres' }>): Promise<void> {
  const u = new URL(source.url);
  u.pathname = '/postgres';
  const pg = requireDriver<typeof Pg>('pg');
  const c = new pg.Client({
    connectionString: u.toString(),
    connectionTimeoutMillis: DB_WAIT_MS,
    query_timeout: DB_WAIT_MS,
  });
  await c.connect();
  try {
    const r = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [source.database]);
    if (r.rowCount === 0) {
      await c.query(`CREATE DATABASE ${source.database}`).catch((err: { code?: string }) => {
        if (err.code !== '42P04') throw err; // created meanwhile by another process
      });
    }
  } finally {
    await c.end();
  }
}
