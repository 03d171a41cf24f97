// The bank's storage: balances (user_account), a ledger row per balance change, and dtm's barrier table, in MySQL/
// MariaDB (mysql2) or PostgreSQL (pg). Every wait on the database is bounded below dtm's RequestTimeout (3 s), so
// a lock wait ends in an error dtm retries later instead of piling calls up on a drained pool.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import {
  type BranchBarrier,
  DtmFailure,
  type MysqlXaConnection,
  type XaBranchInfo,
  xaLocalTransaction,
} from '@dtm-gozero/dtmgrpc';
import type { Metadata } from '@grpc/grpc-js';
import type * as mysql from 'mysql2/promise';
import type pg from 'pg';
import type { DataSource, MysqlTls } from '../config/datasource.ts';

/** Budget of one database wait (connect, acquire, statement, lock), well under dtm's 3 s RequestTimeout. */
export const DB_WAIT_MS = 2000;
/** Accounts every fresh bank starts with (the example's users 1 and 2), in cents. */
export const SEED_ACCOUNTS: readonly [bigint, bigint][] = [
  [1n, 10_000n],
  [2n, 10_000n],
];

const require = createRequire(import.meta.url);
const SQL_DIR = join(require.resolve('@dtm-gozero/dtmgrpc/sql/barrier.mysql.sql'), '..');

// Each driver is loaded when a bank of its dialect opens: a MySQL bank never loads pg, nor a Postgres bank mysql2
// (each costs several MiB of RSS). Synchronous (both are CommonJS), so openBank stays synchronous.
const mysqlDriver = (): typeof mysql => require('mysql2/promise') as typeof mysql;
const pgDriver = (): typeof pg => require('pg') as typeof pg;

/** One balance change, as the ledger records it. */
export interface LedgerKey {
  gid: string;
  branchId: string;
  op: string;
}

/** Balance changes inside one local transaction; each writes its ledger row in the same transaction. */
export interface Accounts {
  /** Takes `amount` from `user`; DtmFailure when the account does not exist or holds less. */
  debit(user: bigint, amount: bigint, key: LedgerKey): Promise<void>;
  /** Gives `amount` to `user`; DtmFailure when the account does not exist or the balance would pass 2^63-1. */
  credit(user: bigint, amount: bigint, key: LedgerKey): Promise<void>;
  /**
   * DtmFailure unless `user` exists and can take `amount` now (the balance stays ≤ 2^63-1): what a first phase
   * checks when the credit itself comes in a later phase that must not fail (TCC confirm, a msg branch).
   */
  canCredit(user: bigint, amount: bigint): Promise<void>;
}

export interface Bank {
  readonly source: DataSource;
  /** Creates the database, tables and barrier table when missing, and the seed accounts (idempotent). */
  migrate(): Promise<void>;
  /** Runs `busi` in one local transaction guarded by the barrier `bb` (barrier insert, business SQL, COMMIT). */
  barrier(bb: BranchBarrier, busi: (acc: Accounts) => Promise<void>): Promise<void>;
  /** The 2-phase message back-check on this database (OK: the local transaction committed). */
  queryPrepared(bb: BranchBarrier): Promise<void>;
  /** An XA branch (phase 1 runs `busi`, phase 2 commits or rolls back). */
  xa(call: { readonly metadata: Metadata }, busi: (acc: Accounts, info: XaBranchInfo) => Promise<void>): Promise<void>;
  /** Balances of all accounts, by user id. */
  balances(): Promise<Map<bigint, bigint>>;
  /** Sets balances (creating accounts); for tests and the chaos suite. */
  setBalances(rows: readonly [bigint, bigint][]): Promise<void>;
  /** Ledger rows of the given gids (all when omitted). */
  ledger(gids?: readonly string[]): Promise<(LedgerKey & { user: bigint; delta: bigint })[]>;
  /** Barrier rows of the given gids. */
  barrierRows(gids: readonly string[]): Promise<{ gid: string; branchId: string; op: string; reason: string }[]>;
  close(): Promise<void>;
}

export function openBank(source: DataSource): Bank {
  return source.dialect === 'mysql' ? mysqlBank(source) : postgresBank(source);
}

/** The source's password, as written and URL-decoded: what must never reach a message. */
function secretsOf(source: DataSource): string[] {
  let pw = '';
  if (source.dialect === 'mysql') pw = source.password;
  else {
    try {
      pw = new URL(source.url).password;
    } catch {
      pw = '';
    }
  }
  if (pw === '') return [];
  let decoded = pw;
  try {
    decoded = decodeURIComponent(pw);
  } catch {
    // not URL-encoded
  }
  return [...new Set([pw, decoded, encodeURIComponent(pw)])].sort((a, b) => b.length - a.length);
}

/** `text` with every form of the source's password replaced by `***` (a driver may echo what it was given). */
export function scrub(source: DataSource, text: string): string {
  let out = text;
  for (const p of secretsOf(source)) out = out.split(p).join('***');
  return out;
}

/** Explains an unreachable database: which one, and what to do. */
export function dbError(source: DataSource, err: unknown): Error {
  const e = err as { message?: string; code?: string };
  const tls =
    source.dialect === 'mysql' && source.tls !== 'false' && /SSL|TLS|secure connection/i.test(String(e.message))
      ? ` (the DataSource asks for TLS: tls=${source.tls}; use tls=preferred or tls=false for a server without it)`
      : '';
  return new Error(
    scrub(
      source,
      `database ${source.shown} is unreachable or refused the request (${e.code ? `${e.code}: ` : ''}${e.message})${tls}; ` +
        'start it with `bash scripts/db.sh up`, or fix Mysql.DataSource / Postgres.DataSource in the config',
    ),
    { cause: err },
  );
}

/** Rejects after `ms` when `p` has not settled; `onLate` receives a value that arrives after that. */
function deadline<T>(p: Promise<T>, ms: number, what: string, onLate?: (v: T) => void): Promise<T> {
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      timedOut = true;
      reject(new Error(`${what}: no answer within ${ms} ms`));
    }, ms);
  });
  p.then((v) => timedOut && onLate?.(v)).catch(() => undefined);
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** The largest balance a BIGINT column holds. */
export const MAX_BALANCE = 2n ** 63n - 1n;

const notFound = (user: bigint): DtmFailure =>
  new DtmFailure(`account ${user} does not exist; transfer between existing accounts (npm run app -- balances)`);
const overflow = (user: bigint, has: unknown, amount: bigint): DtmFailure =>
  new DtmFailure(
    `account ${user} holds ${has}; crediting ${amount} would pass the largest balance 2^63-1; transfer less`,
  );
const insufficient = (user: bigint, has: unknown, amount: bigint): DtmFailure =>
  new DtmFailure(`insufficient funds: account ${user} holds ${has}, the transfer needs ${amount}`);

// ---------------------------------------------------------------- MySQL / MariaDB

function mysqlBank(source: Extract<DataSource, { dialect: 'mysql' }>): Bank {
  const db = source.database;
  const accounts = `${db}.user_account`;
  const ledger = `${db}.ledger`;
  // go-sql-driver's tls: true verifies the server's certificate, skip-verify does not, preferred uses TLS when the
  // server offers it (tried first; migrate() falls back to plaintext on a server without TLS).
  const ssl = (tls: MysqlTls) =>
    tls === 'true' ? { ssl: {} } : tls === 'false' ? {} : { ssl: { rejectUnauthorized: false } };
  const { createPool } = mysqlDriver();
  const newPool = (tls: MysqlTls): mysql.Pool => {
    const p = createPool({
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
  const acquire = (): Promise<mysql.PoolConnection> =>
    deadline(pool.getConnection(), DB_WAIT_MS, `database ${source.shown}: waiting for a pooled connection`, (c) =>
      c.release(),
    );
  /**
   * Every statement carries mysql2's client-side timeout. mysql2 only stops waiting: the statement goes on running
   * on the server (a metadata-lock wait has no server-side bound), holding what it locked, so a timed-out one is
   * killed from another session (KILL QUERY, bounded too) before its error goes up.
   */
  const q = async (c: mysql.Pool | mysql.PoolConnection, sql: string, values: unknown[] = []) => {
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

  const onConn = (c: mysql.PoolConnection): Accounts => {
    const addLedger = async (user: bigint, delta: bigint, k: LedgerKey): Promise<void> => {
      const [r] = await q(
        c,
        `INSERT INTO ${ledger} (gid, branch_id, op, user_id, delta) VALUES (?, ?, ?, CAST(? AS SIGNED), CAST(? AS SIGNED))`,
        [k.gid, k.branchId, k.op, String(user), String(delta)],
      );
      if (affected(r) !== 1) throw new Error(`bank: ledger row for ${k.gid} not written`);
    };
    const balanceOf = async (user: bigint): Promise<string | undefined> => {
      const [rows] = await q(c, `SELECT balance FROM ${accounts} WHERE user_id = CAST(? AS SIGNED)`, [String(user)]);
      return (rows as { balance: string }[])[0]?.balance;
    };
    return {
      async debit(user, amount, k) {
        const [r] = await q(
          c,
          `UPDATE ${accounts} SET balance = balance - CAST(? AS SIGNED) WHERE user_id = CAST(? AS SIGNED) AND balance >= CAST(? AS SIGNED)`,
          [String(amount), String(user), String(amount)],
        );
        if (affected(r) !== 1) {
          const has = await balanceOf(user);
          throw has === undefined ? notFound(user) : insufficient(user, has, amount);
        }
        await addLedger(user, -amount, k);
      },
      async credit(user, amount, k) {
        // The headroom test in the WHERE keeps BIGINT arithmetic from overflowing (a database error dtm would retry).
        const [r] = await q(
          c,
          `UPDATE ${accounts} SET balance = balance + CAST(? AS SIGNED) WHERE user_id = CAST(? AS SIGNED) AND balance <= CAST(? AS SIGNED)`,
          [String(amount), String(user), String(MAX_BALANCE - amount)],
        );
        if (affected(r) !== 1) {
          const has = await balanceOf(user);
          throw has === undefined ? notFound(user) : overflow(user, has, amount);
        }
        await addLedger(user, amount, k);
      },
      async canCredit(user, amount) {
        const has = await balanceOf(user);
        if (has === undefined) throw notFound(user);
        if (BigInt(has) > MAX_BALANCE - amount) throw overflow(user, has, amount);
      },
    };
  };

  return {
    source,
    async migrate() {
      const barrierSql = readFileSync(join(SQL_DIR, 'barrier.mysql.sql'), 'utf8');
      const statements = [
        `CREATE DATABASE IF NOT EXISTS ${db} DEFAULT CHARACTER SET utf8mb4`,
        `CREATE TABLE IF NOT EXISTS ${accounts} (user_id BIGINT PRIMARY KEY, balance BIGINT NOT NULL DEFAULT 0)`,
        `CREATE TABLE IF NOT EXISTS ${ledger} (id BIGINT AUTO_INCREMENT PRIMARY KEY, gid VARCHAR(128) NOT NULL, ` +
          'branch_id VARCHAR(128) NOT NULL, op VARCHAR(45) NOT NULL, user_id BIGINT NOT NULL, delta BIGINT NOT NULL, ' +
          'create_time DATETIME DEFAULT NOW(), KEY ix_ledger_gid (gid))',
        ...splitSql(barrierSql),
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
          return c as unknown as MysqlXaConnection & mysql.PoolConnection;
        },
      };
      await xaLocalTransaction(call, { mysql: xaPool }, (conn, info) =>
        busi(onConn(conn as unknown as mysql.PoolConnection), info),
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

// ---------------------------------------------------------------- PostgreSQL

function postgresBank(source: Extract<DataSource, { dialect: 'postgres' }>): Bank {
  const accounts = 'dtm_busi.user_account';
  const ledger = 'dtm_busi.ledger';
  const pool = new (pgDriver().Pool)({
    connectionString: source.url,
    max: 10,
    connectionTimeoutMillis: DB_WAIT_MS, // connect and acquire
    statement_timeout: DB_WAIT_MS,
    lock_timeout: 1000,
    query_timeout: DB_WAIT_MS + 500,
  });
  pool.on('error', () => undefined); // an idle client's lost connection is replaced on the next checkout

  const onClient = (c: pg.PoolClient): Accounts => {
    const addLedger = async (user: bigint, delta: bigint, k: LedgerKey): Promise<void> => {
      const r = await c.query(
        `INSERT INTO ${ledger} (gid, branch_id, op, user_id, delta) VALUES ($1, $2, $3, $4::bigint, $5::bigint)`,
        [k.gid, k.branchId, k.op, String(user), String(delta)],
      );
      if (r.rowCount !== 1) throw new Error(`bank: ledger row for ${k.gid} not written`);
    };
    const balanceOf = async (user: bigint): Promise<string | undefined> =>
      (await c.query(`SELECT balance::text AS balance FROM ${accounts} WHERE user_id = $1::bigint`, [String(user)]))
        .rows[0]?.balance;
    return {
      async debit(user, amount, k) {
        const r = await c.query(
          `UPDATE ${accounts} SET balance = balance - $1::bigint WHERE user_id = $2::bigint AND balance >= $1::bigint`,
          [String(amount), String(user)],
        );
        if (r.rowCount !== 1) {
          const has = await balanceOf(user);
          throw has === undefined ? notFound(user) : insufficient(user, has, amount);
        }
        await addLedger(user, -amount, k);
      },
      async credit(user, amount, k) {
        // The headroom test in the WHERE keeps bigint arithmetic from overflowing (a database error dtm would retry).
        const r = await c.query(
          `UPDATE ${accounts} SET balance = balance + $1::bigint WHERE user_id = $2::bigint AND balance <= $3::bigint`,
          [String(amount), String(user), String(MAX_BALANCE - amount)],
        );
        if (r.rowCount !== 1) {
          const has = await balanceOf(user);
          throw has === undefined ? notFound(user) : overflow(user, has, amount);
        }
        await addLedger(user, amount, k);
      },
      async canCredit(user, amount) {
        const has = await balanceOf(user);
        if (has === undefined) throw notFound(user);
        if (BigInt(has) > MAX_BALANCE - amount) throw overflow(user, has, amount);
      },
    };
  };

  return {
    source,
    async migrate() {
      try {
        await createPostgresDatabase(source);
        const barrierSql = readFileSync(join(SQL_DIR, 'barrier.postgres.sql'), 'utf8');
        const statements = [
          'CREATE SCHEMA IF NOT EXISTS dtm_busi',
          `CREATE TABLE IF NOT EXISTS ${accounts} (user_id BIGINT PRIMARY KEY, balance BIGINT NOT NULL DEFAULT 0)`,
          `CREATE TABLE IF NOT EXISTS ${ledger} (id BIGSERIAL PRIMARY KEY, gid VARCHAR(128) NOT NULL, ` +
            'branch_id VARCHAR(128) NOT NULL, op VARCHAR(45) NOT NULL, user_id BIGINT NOT NULL, delta BIGINT NOT NULL, ' +
            'create_time TIMESTAMPTZ DEFAULT now())',
          `CREATE INDEX IF NOT EXISTS ix_ledger_gid ON ${ledger} (gid)`,
          ...splitSql(barrierSql),
          `INSERT INTO ${accounts} (user_id, balance) VALUES ${SEED_ACCOUNTS.map(([u, b]) => `(${u}, ${b})`).join(', ')} ON CONFLICT DO NOTHING`,
        ];
        for (const s of statements) await pool.query(s);
      } catch (err) {
        throw dbError(source, err);
      }
    },
    async barrier(bb, busi) {
      // One client for BEGIN, the barrier inserts, the business SQL and COMMIT (callWithPostgres checks it out).
      await bb.callWithPostgres(pool, (c) => busi(onClient(c as unknown as pg.PoolClient)));
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
  const c = new (pgDriver().Client)({
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

/** Statements of a SQL file (comments dropped, split on `;`). */
function splitSql(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.replace(/--.*$/, ''))
    .join('\n')
    .split(';')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}
