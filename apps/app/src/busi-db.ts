import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPool, type Pool } from 'mysql2/promise';

/** The example's balances: dtm_busi.user_account, next to the barrier table dtm_barrier.barrier. */
export const BUSI_TABLE = 'dtm_busi.user_account';

/** The schema and the two users, shared with `bash scripts/db.sh up` (idempotent statements). */
const BUSI_SQL = join(import.meta.dirname, '..', 'sql', 'dtm_busi.mysql.sql');

/**
 * Opens the pool and makes sure the example's database, table and both users exist (idempotent). The pool
 * connects without a default database: the DataSource names dtm_busi, which a fresh server does not have yet,
 * and every statement here and in modes.ts qualifies its table.
 */
export async function openBusiDb(uri: string): Promise<Pool> {
  const server = new URL(uri);
  server.pathname = '/';
  const pool = createPool({ uri: server.toString(), connectionLimit: 3, connectTimeout: 3000 });
  try {
    const statements = readFileSync(BUSI_SQL, 'utf8')
      .replace(/^--.*$/gm, '')
      .split(';')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    for (const sql of statements) await pool.query(sql);
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw new Error(
      `cannot use MySQL at ${uri.replace(/:[^:@/]*@/, ':***@')} (${(err as Error).message}); ` +
        'start the databases with `bash scripts/db.sh up`, or set Mysql.DataSource in the config',
      { cause: err },
    );
  }
  return pool;
}
