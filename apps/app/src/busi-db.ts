import { createPool, type Pool } from 'mysql2/promise';

/** The example's balances: dtm_busi.user_account, next to the barrier table dtm_barrier.barrier. */
export const BUSI_TABLE = 'dtm_busi.user_account';

/** Opens the pool and makes sure the example's table and both users exist (idempotent). */
export async function openBusiDb(uri: string): Promise<Pool> {
  const pool = createPool({ uri, connectionLimit: 3, connectTimeout: 3000 });
  try {
    await pool.query('CREATE DATABASE IF NOT EXISTS dtm_busi');
    await pool.query(
      `CREATE TABLE IF NOT EXISTS ${BUSI_TABLE} (user_id INT PRIMARY KEY, balance BIGINT NOT NULL DEFAULT 0)`,
    );
    await pool.query(`INSERT IGNORE INTO ${BUSI_TABLE} (user_id, balance) VALUES (1, 10000), (2, 10000)`);
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
