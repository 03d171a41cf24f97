// The bank on MySQL / MariaDB (mysql2): its tables in the DataSource's database, dtm's barrier in dtm_barrier.
import { barrierTableDdl, DtmFailure, type MysqlXaConnection, xaLocalTransaction } from '@dtm-gozero/dtmgrpc';
import type * as Mysql from 'mysql2/promise';
import type { DataSource, MysqlTls } from './datasource.ts';
import {
  type Accounts,
  accountsOn,
  type Bank,
  DB_WAIT_MS,
  dbError,
  deadline,
  MAX_BALANCE,
  requireDriver,
  SEED_ACCOUNTS,
} from './store.ts';

export function mysqlBank(source: Extract<DataSource, { dialect: 'mysql' }>): Bank {
  const db = source.database;
  const accounts = `${db}.user_account`;
  const ledger = `${db}.ledger`;
  // go-sql-driver's tls: true verifies the server's certificate, skip-verify does not, preferred uses TLS when the
  // server offers it (tried first; migrate() falls back to plaintext on a server without TLS).
  const ssl = (tls: MysqlTls) =>
    tls === 'true' ? { ssl: {} } : tls === 'false' ? {} : { ssl: { rejectUnauthorized: false } };
  const mysql = requireDriver<typeof Mysql>('mysql2/promise');
  const newPool = (tls: MysqlTls): Mysql.Pool => {
    const p = mysql.createPool({
      host: source.host,
      port: source.port,
      user: source.user,
      password: source.password,
      connectTimeout: DB_WAIT_MS,
      connectionLimit: 10,
      supportBigNumbers: true,
      bigNumberStrings: true,
      ...ssl(tls),
    });
    // A lock wait ends on the server after 1 s (the default is 50 s), before dtm's request times out.
    p.pool.on('connection', (c) => {
      // with a callback: a failure here must not become an unhandled 'error' event that ends trans
      c.query('SET SESSION innodb_lock_wait_timeout = 1', () => undefined);
    });
    return p;
  };
  let pool = newPool(source.tls);

  /** A connection from the pool within DB_WAIT_MS; a late one goes straight back. */
  const acquire = (): Promise<Mysql.PoolConnection> =>
    deadline(pool.getConnection(), DB_WAIT_MS, `database ${source.shown}: waiting for a pooled connection`, (c) =>
      c.release(),
    );
  /**
   * Every statement carries mysql2's client-side timeout. mysql2 only stops waiting: the statement goes on running
   * on the server (a metadata-lock wait has no server-side bound), holding what it locked, so a timed-out one is
   * killed from another session (KILL QUERY, bounded too) before its error goes up.
   */
  const q = async (c: Mysql.Pool | Mysql.PoolConnection, sql: string, values: unknown[] = []) => {
    try {
      return await c.query({ sql, timeout: DB_WAIT_MS }, values);
    } catch (err) {
      const threadId = (c as { threadId?: unknown }).threadId; // a pooled connection's; a pool query has none
      if ((err as { code?: string }).code === 'PROTOCOL_SEQUENCE_TIMEOUT' && typeof threadId === 'number') {
        await deadline(pool.query({ sql: 'KILL QUERY ?', timeout: 1000 }, [threadId]), 1000, 'KILL QUERY').catch(
          () => undefined,
        );
      }
      throw err;
    }
  };
  const affected = (r: unknown): number => {
    const n = (r as { affectedRows?: unknown }).affectedRows;
    if (typeof n !== 'number') throw new Error('bank: MySQL returned no affectedRows');
    return n;
  };

  const onConn = (c: Mysql.PoolConnection): Accounts =>
    accountsOn({
      debitRow: async (user, amount) =>
        affected(
          (
            await q(
              c,
              `UPDATE ${accounts} SET balance = balance - CAST(? AS SIGNED) WHERE user_id = CAST(? AS SIGNED) AND balance >= CAST(? AS SIGNED)`,
              [String(amount), String(user), String(amount)],
            )
          )[0],
        ),
      creditRow: async (user, amount) =>
        affected(
          (
            await q(
              c,
              `UPDATE ${accounts} SET balance = balance + CAST(? AS SIGNED) WHERE user_id = CAST(? AS SIGNED) AND balance <= CAST(? AS SIGNED)`,
              [String(amount), String(user), String(MAX_BALANCE - amount)],
            )
          )[0],
        ),
      balanceOf: async (user) => {
        const [rows] = await q(c, `SELECT balance FROM ${accounts} WHERE user_id = CAST(? AS SIGNED)`, [String(user)]);
        return (rows as { balance: string }[])[0]?.balance;
      },
      ledgerRow: async (user, delta, k) =>
        affected(
          (
            await q(
              c,
              `INSERT INTO ${ledger} (gid, branch_id, op, user_id, delta) VALUES (?, ?, ?, CAST(? AS SIGNED), CAST(? AS SIGNED))`,
              [k.gid, k.branchId, k.op, String(user), String(delta)],
            )
          )[0],
        ),
    });

  return {
    source,
    async migrate() {
      const statements = [
        `CREATE DATABASE IF NOT EXISTS ${db} DEFAULT CHARACTER SET utf8mb4`,
        `CREATE TABLE IF NOT EXISTS ${accounts} (user_id BIGINT PRIMARY KEY, balance BIGINT NOT NULL DEFAULT 0)`,
        `CREATE TABLE IF NOT EXISTS ${ledger} (id BIGINT AUTO_INCREMENT PRIMARY KEY, gid VARCHAR(128) NOT NULL, ` +
          'branch_id VARCHAR(128) NOT NULL, op VARCHAR(45) NOT NULL, user_id BIGINT NOT NULL, delta BIGINT NOT NULL, ' +
          'create_time DATETIME DEFAULT NOW(), KEY ix_ledger_gid (gid))',
        ...barrierTableDdl('mysql'),
        `INSERT IGNORE INTO ${accounts} (user_id, balance) VALUES ${SEED_ACCOUNTS.map(([u, b]) => `(${u}, ${b})`).join(', ')}`,
      ];
      try {
        try {
          await q(pool, 'SELECT 1');
        } catch (err) {
          if (source.tls !== 'preferred' || (err as { code?: string }).code !== 'HANDSHAKE_NO_SSL_SUPPORT') throw err;
          await pool.end().catch(() => undefined);
          pool = newPool('false');
        }
        for (const s of statements) await q(pool, s);
      } catch (err) {
        throw dbError(source, err);
      }
    },
    async barrier(bb, busi) {
      const c = await acquire();
      let broken = false;
      try {
        // A branch dtm calls (anything but a TCC try or the app's msg step) fails at once on a row lock: dtm retries
        // it later anyway, and its recovery runs one transaction at a time, so a 1 s wait per blocked branch would
        // stall every other transaction queued behind it (seen in the 10,000-transfer chaos run).
        const dtmCalls = bb.op !== 'try' && bb.op !== 'msg';
        await q(c, `SET SESSION innodb_lock_wait_timeout = ${dtmCalls ? 0 : 1}`);
        await q(c, 'START TRANSACTION');
        const tx = {
          query: (sql: string, values: unknown[]) => q(c, sql, values) as Promise<[unknown, unknown]>,
          commit: () => c.commit(),
          rollback: () => c.rollback(),
        };
        await bb
          .callMysql(tx, () => busi(onConn(c)))
          .catch((err: unknown) => {
            broken = !(err instanceof DtmFailure);
            throw err;
          });
      } finally {
        // a connection whose transaction state is unknown (timeout, lost server) is dropped, not reused
        if (broken) c.destroy();
        else c.release();
      }
    },
    async queryPrepared(bb) {
      await bb.queryPreparedMysql({ query: (sql, values) => q(pool, sql, values) as Promise<[unknown, unknown]> });
    },
    async xa(call, busi) {
      // Phase 1's connection comes bounded (acquire) and with its own lock wait: a pooled session keeps whatever
      // innodb_lock_wait_timeout its last barrier call set (0 for dtm's calls), which phase 1 must not inherit.
      const xaPool = {
        query: (sql: string, values: unknown[]) => q(pool, sql, values) as Promise<[unknown, unknown]>,
        getConnection: async () => {
          const c = await acquire();
          try {
            await q(c, 'SET SESSION innodb_lock_wait_timeout = 1');
          } catch (err) {
            c.destroy();
            throw err;
          }
          return c as unknown as MysqlXaConnection & Mysql.PoolConnection;
        },
      };
      await xaLocalTransaction(call, { mysql: xaPool }, (conn, info) =>
        busi(onConn(conn as unknown as Mysql.PoolConnection), info),
      );
    },
    async balances() {
      const [rows] = await q(pool, `SELECT user_id, balance FROM ${accounts} ORDER BY user_id`);
      return new Map(
        (rows as { user_id: string; balance: string }[]).map((r) => [BigInt(r.user_id), BigInt(r.balance)]),
      );
    },
    async setBalances(rows) {
      for (const [u, b] of rows) {
        await q(
          pool,
          `INSERT INTO ${accounts} (user_id, balance) VALUES (CAST(? AS SIGNED), CAST(? AS SIGNED)) ON DUPLICATE KEY UPDATE balance = VALUES(balance)`,
          [String(u), String(b)],
        );
      }
    },
    async ledger(gids) {
      if (gids?.length === 0) return [];
      const [rows] = await q(
        pool,
        `SELECT gid, branch_id, op, user_id, delta FROM ${ledger}${gids ? ' WHERE gid IN (?)' : ''}`,
        gids ? [gids] : [],
      );
      return (rows as { gid: string; branch_id: string; op: string; user_id: string; delta: string }[]).map((r) => ({
        gid: r.gid,
        branchId: r.branch_id,
        op: r.op,
        user: BigInt(r.user_id),
        delta: BigInt(r.delta),
      }));
    },
    async barrierRows(gids) {
      if (gids.length === 0) return [];
      const [rows] = await q(pool, 'SELECT gid, branch_id, op, reason FROM dtm_barrier.barrier WHERE gid IN (?)', [
        gids,
      ]);
      return (rows as { gid: string; branch_id: string; op: string; reason: string }[]).map((r) => ({
        gid: r.gid,
        branchId: r.branch_id,
        op: r.op,
        reason: r.reason,
      }));
    },
    close: () => pool.end(),
  };
}
