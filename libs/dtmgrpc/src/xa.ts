import { Metadata } from '@grpc/grpc-js';
import { getBarrierTableName, OP_ACTION, OP_COMMIT, OP_ROLLBACK } from './barrier/core.ts';
import type { MysqlPool, MysqlPoolConnection, MysqlQueryable } from './barrier/mysql.ts';
import type { PgPool, PgPoolClient, PgQueryable } from './barrier/postgres.ts';
import { type BranchCall, typedBranch, urlBranch } from './branch.ts';
import { invokeUnary } from './conn.ts';
import { DtmError, DtmFailure, DtmInputError, DtmOngoing, fromGrpcError } from './errors.ts';
import { rawMethod, type UnaryMethod } from './method.ts';
import { type BranchInfo, branchInfoFromMetadata } from './server.ts';
import { TransBase } from './trans-base.ts';

/** Barrier id of the row an XA branch writes in phase 1 (and its rollback writes if phase 1 never came). */
export const XA_BARRIER_ID = '01';

/**
 * An XA global transaction (dtm's `XaGrpc`); get one from `xaGlobalTransaction`. Each branch is a resource
 * manager service that runs its local work inside an XA transaction (`xaLocalTransaction`), prepares it and
 * registers with dtm; dtm then commits every branch on Submit, or rolls them back on Abort.
 */
export class XaGrpc extends TransBase {
  constructor(dtm: string, gid: string) {
    super(dtm, gid, 'xa');
  }

  /**
   * Calls a branch's phase 1 (op `action`) with a new branch id and returns its reply. dtm later calls the same
   * method with op `commit` or `rollback` and an empty payload. A failure makes `xaGlobalTransaction` abort.
   */
  async callBranch<Req, Res>(server: string, method: UnaryMethod<Req, Res>, request: Req): Promise<Res> {
    const b = typedBranch(server, method, request);
    return this.#call(b, method);
  }

  /** Go-style: the branch URL (`busiServer + "/busi.Busi/XaTransOut"`) and encoded bytes; returns the reply bytes. */
  async callBranchUrl(url: string, payload: Uint8Array): Promise<Buffer> {
    const b = urlBranch(url, payload);
    return this.#call(b, rawMethod(b.method));
  }

  async #call<Res>(b: BranchCall, method: UnaryMethod<never, Res>): Promise<Res> {
    const branchId = this.newSubBranchId();
    try {
      return await invokeUnary(
        b.server,
        { ...rawMethod(b.method), responseDeserialize: method.responseDeserialize },
        b.payload,
        { metadata: this.branchMetadata(branchId, OP_ACTION, b.url), timeoutMs: this.options.callTimeoutMs },
      );
    } catch (err) {
      throw fromGrpcError(err, `xa ${this.gid} branch ${branchId} action ${b.url}`);
    }
  }

  /** gRPC metadata of a phase-1 call: dtm's branch keys, the branch headers, and the phase-2 URL. */
  branchMetadata(branchId: string, op: string, phase2Url: string): Record<string, string> {
    return {
      'dtm-gid': this.gid,
      'dtm-trans_type': this.transType,
      'dtm-branch_id': branchId,
      'dtm-op': op,
      'dtm-dtm': this.dtm,
      ...this.options.branchHeaders,
      'dtm-phase2_url': phase2Url,
    };
  }

  /** @internal RM side: tells dtm to call `phase2Url` with commit/rollback for this branch. */
  async registerXaBranch(branchId: string, phase2Url: string): Promise<void> {
    await this.registerBranch({ BranchID: branchId, Op: '', Data: { url: phase2Url }, BusiPayload: Buffer.alloc(0) });
  }
}

/**
 * Runs an XA global transaction: Prepare, then `fn` (which calls branches with `xa.callBranch`), then Submit —
 * dtm commits every prepared branch. If `fn` throws, Abort with its message as the rollback reason (dtm rolls
 * back every registered branch) and rethrow. `custom` may set options (waitResult, timeoutToFail…) before Prepare.
 */
export async function xaGlobalTransaction(
  dtm: string,
  gid: string,
  fn: (xa: XaGrpc) => Promise<void>,
  custom?: (xa: XaGrpc) => void,
): Promise<void> {
  const xa = new XaGrpc(dtm, gid);
  custom?.(xa);
  await xa.runGlobal(fn);
}

// ------------------------------------------------------------------------------------------------ RM side

/** mysql2/promise PoolConnection: the XA branch takes one for itself and destroys it afterwards. */
export type MysqlXaConnection = MysqlPoolConnection & { destroy(): void };

/**
 * The database of an XA branch: a mysql2/promise Pool (MySQL ≥ 5.7.7 / MariaDB ≥ 10.5, whose prepared XA
 * transactions outlive their connection) or a pg Pool (the server needs `max_prepared_transactions` > 0).
 */
export type XaDb<C> = { mysql: MysqlPool<C & MysqlXaConnection> } | { postgres: PgXaPool<C & PgPoolClient> };

/**
 * A pg Pool, typed so that the client type is inferred from `connect(): Promise<C>` even though pg's Pool also has a
 * callback overload (TypeScript infers from overloads pairwise, from the last one).
 */
export interface PgXaPool<C extends PgPoolClient> extends PgQueryable {
  connect(): Promise<C>;
  connect(callback: never): void;
}

/** What an XA branch handler is told: the dtm metadata of the call. */
export type XaBranchInfo = BranchInfo;

const XA_OPS = [OP_ACTION, OP_COMMIT, OP_ROLLBACK];

/** Reads and checks the XA branch metadata of a call (gid, branch id, op; for phase 1 also dtm and phase2_url). */
export function xaBranchInfo(call: { readonly metadata: Metadata } | Metadata): XaBranchInfo {
  const md = call instanceof Metadata ? call : call?.metadata;
  if (!(md instanceof Metadata)) {
    throw new DtmInputError('xaLocalTransaction: pass the grpc-js call (ServerUnaryCall) or its Metadata');
  }
  const info = branchInfoFromMetadata(md, ['gid', 'branchId', 'op']);
  if (info.transType !== 'xa') {
    throw new DtmInputError(
      `xaLocalTransaction: the call belongs to a ${info.transType ? `'${info.transType}'` : 'dtm'} transaction, not an xa one (dtm-trans_type=${JSON.stringify(info.transType)})`,
    );
  }
  if (!XA_OPS.includes(info.op)) {
    throw new DtmInputError(
      `xaLocalTransaction: unknown op '${info.op}' for an xa branch (expected ${XA_OPS.join(', ')})`,
    );
  }
  if (info.op === OP_ACTION) {
    const missing = (['dtm', 'phase2Url'] as const).filter((k) => info[k] === '');
    if (missing.length > 0) {
      throw new DtmInputError(
        `xaLocalTransaction: phase 1 of xa ${info.gid} branch ${info.branchId} lacks ${missing.map((k) => (k === 'dtm' ? 'dtm-dtm' : 'dtm-phase2_url')).join(', ')} (call it through XaGrpc.callBranch)`,
      );
    }
  }
  return info;
}

/** The XA transaction id of a branch, `<gid>-<branch id>`, checked for what can be spliced into SQL. */
function xaId(info: XaBranchInfo, maxBytes: number, db: string): string {
  const xid = `${info.gid}-${info.branchId}`;
  if (/['\\\0]/.test(xid)) {
    throw new DtmInputError(`xa id ${JSON.stringify(xid)} contains a quote, backslash or NUL; use dtm's gids`);
  }
  if (Buffer.byteLength(xid) > maxBytes) {
    throw new DtmInputError(`xa id '${xid}' is longer than ${db}'s limit of ${maxBytes} bytes; use a shorter gid`);
  }
  return xid;
}

/**
 * An XA branch handler's body (dtm's `XaLocalTransaction`); the same gRPC method serves all three ops:
 * - op `action` (phase 1, called by the client): on a dedicated connection, start an XA transaction, insert the
 *   xa barrier row, run `fn(conn)`, register the branch with dtm (phase-2 URL = this method), then prepare. Any
 *   error rolls the XA transaction back and is rethrown (a DtmFailure makes the global transaction roll back).
 * - op `commit` / `rollback` (phase 2, called by dtm with an empty payload): commit or roll back the prepared
 *   transaction; an unknown XA id counts as done. After a rollback the barrier row is written, so a phase 1 that
 *   arrives late refuses to run (it fails with DtmFailure instead of leaving a transaction nobody would finish).
 */
export function xaLocalTransaction<C extends MysqlXaConnection>(
  call: { readonly metadata: Metadata } | Metadata,
  db: { mysql: MysqlPool<C> },
  fn: (conn: C, info: XaBranchInfo) => Promise<unknown>,
): Promise<void>;
export function xaLocalTransaction<C extends PgPoolClient>(
  call: { readonly metadata: Metadata } | Metadata,
  db: { postgres: PgXaPool<C> },
  fn: (client: C, info: XaBranchInfo) => Promise<unknown>,
): Promise<void>;
export function xaLocalTransaction<C>(
  call: { readonly metadata: Metadata } | Metadata,
  db: XaDb<C>,
  fn: (conn: C, info: XaBranchInfo) => Promise<unknown>,
): Promise<void>;
export async function xaLocalTransaction<C>(
  call: { readonly metadata: Metadata } | Metadata,
  db: XaDb<C>,
  fn: (conn: C, info: XaBranchInfo) => Promise<unknown>,
): Promise<void> {
  const info = xaBranchInfo(call);
  if (!db || typeof db !== 'object' || !('mysql' in db || 'postgres' in db)) {
    throw new DtmInputError('xaLocalTransaction: db must be { mysql: mysql2/promise Pool } or { postgres: pg Pool }');
  }
  if (info.op === OP_ACTION && typeof fn !== 'function') {
    throw new DtmInputError('xaLocalTransaction: pass the function that does the local work');
  }
  if ('mysql' in db) {
    const xid = xaId(info, 64, 'MySQL');
    if (info.op === OP_ACTION) await mysqlPhase1(db.mysql, xid, info, fn as (c: C & MysqlXaConnection) => unknown);
    else await mysqlPhase2(db.mysql, xid, info);
  } else {
    const xid = xaId(info, 199, 'Postgres');
    if (info.op === OP_ACTION) await pgPhase1(db.postgres, xid, info, fn as (c: C & PgPoolClient) => unknown);
    else await pgPhase2(db.postgres, xid, info);
  }
}

const barrierRow = (info: XaBranchInfo, reason: string) => [
  'xa',
  info.gid,
  info.branchId,
  OP_ACTION,
  XA_BARRIER_ID,
  reason,
];

const lateMessage = (info: XaBranchInfo) =>
  `xa ${info.gid} branch ${info.branchId}: phase 1 already ran, or its rollback came first; not running it again`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- MySQL / MariaDB

function mysqlAffected(result: unknown): number {
  const n = (result as { affectedRows?: unknown } | null)?.affectedRows;
  if (typeof n !== 'number') throw new Error('xa: the MySQL driver returned no affectedRows (use mysql2/promise)');
  return n;
}

const mysqlInsertBarrier = async (db: MysqlQueryable, info: XaBranchInfo, reason: string): Promise<number> => {
  const sql = `insert ignore into ${getBarrierTableName()}(trans_type, gid, branch_id, op, barrier_id, reason) values(?,?,?,?,?,?)`;
  const [result] = await db.query(sql, barrierRow(info, reason));
  return mysqlAffected(result);
};

async function mysqlPhase1<C extends MysqlXaConnection>(
  pool: MysqlPool<C>,
  xid: string,
  info: XaBranchInfo,
  fn: (conn: C, info: XaBranchInfo) => unknown,
): Promise<void> {
  const conn = await pool.getConnection();
  let started = false;
  let ended = false;
  try {
    await conn.query(`XA START '${xid}'`, []);
    started = true;
    if ((await mysqlInsertBarrier(conn, info, OP_ACTION)) === 0) throw new DtmFailure(lateMessage(info));
    await fn(conn, info);
    await new XaGrpc(info.dtm, info.gid).registerXaBranch(info.branchId, info.phase2Url);
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

const isUnknownXid = (err: unknown): boolean =>
  (err as { errno?: unknown })?.errno === 1397 || /XAER_NOTA|does not exist/.test(String((err as Error)?.message));

/** Whether `xid` is a prepared XA transaction on the server (XA RECOVER). */
async function mysqlXaPrepared(db: MysqlQueryable, xid: string): Promise<boolean> {
  const [rows] = await db.query('XA RECOVER', []);
  return (Array.isArray(rows) ? (rows as { data?: unknown; bqual_length?: unknown }[]) : []).some(
    (r) => String(r.data) === xid && Number(r.bqual_length) === 0,
  );
}

async function mysqlPhase2(pool: MysqlQueryable, xid: string, info: XaBranchInfo): Promise<void> {
  const sql = `XA ${info.op === OP_COMMIT ? 'COMMIT' : 'ROLLBACK'} '${xid}'`;
  // A prepared transaction whose phase-1 connection has not quite closed yet answers "unknown XID" too; it is
  // still listed by XA RECOVER, so wait for it rather than take it for done (≈ 2 s: within dtm's default 3 s
  // RequestTimeout; after that, ONGOING makes dtm come back later).
  for (let attempt = 0; ; attempt++) {
    try {
      await pool.query(sql, []);
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
  if (info.op === OP_ROLLBACK) await mysqlInsertBarrier(pool, info, OP_ROLLBACK);
}

// ---------------------------------------------------------------- Postgres

const pgInsertBarrier = async (db: PgQueryable, info: XaBranchInfo, reason: string): Promise<number> => {
  const sql =
    `insert into ${getBarrierTableName()}(trans_type, gid, branch_id, op, barrier_id, reason) ` +
    'values($1,$2,$3,$4,$5,$6) on conflict on constraint uniq_barrier do nothing';
  const result = await db.query(sql, barrierRow(info, reason));
  return result.rowCount ?? 0;
};

const pgPreparedOk = new WeakSet<object>();

/** Prepared transactions are off by default in Postgres (max_prepared_transactions = 0): say so before any work. */
async function pgCheckPrepared(pool: PgQueryable): Promise<void> {
  if (pgPreparedOk.has(pool)) return;
  const r = await pool.query("select current_setting('max_prepared_transactions')::int as n");
  const n = Number((r.rows[0] as { n?: unknown } | undefined)?.n ?? 0);
  if (n <= 0) {
    throw new DtmError(
      'xa on Postgres needs prepared transactions, but the server has max_prepared_transactions = 0; ' +
        'start it with -c max_prepared_transactions=<n> (n ≥ the number of XA branches prepared at once, e.g. 10)',
    );
  }
  pgPreparedOk.add(pool);
}

async function pgPhase1<C extends PgPoolClient>(
  pool: PgPool<C>,
  xid: string,
  info: XaBranchInfo,
  fn: (conn: C, info: XaBranchInfo) => unknown,
): Promise<void> {
  await pgCheckPrepared(pool);
  const client = await pool.connect();
  let began = false;
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    began = true;
    if ((await pgInsertBarrier(client, info, OP_ACTION)) === 0) throw new DtmFailure(lateMessage(info));
    await fn(client, info);
    await new XaGrpc(info.dtm, info.gid).registerXaBranch(info.branchId, info.phase2Url);
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

async function pgPhase2(pool: PgQueryable, xid: string, info: XaBranchInfo): Promise<void> {
  try {
    await pool.query(`${info.op === OP_COMMIT ? 'COMMIT' : 'ROLLBACK'} PREPARED '${xid}'`);
  } catch (err) {
    // 42704: no prepared transaction with this id — finished before (a repeated call), or never prepared
    if ((err as { code?: unknown })?.code !== '42704' && !isUnknownXid(err)) throw err;
  }
  if (info.op === OP_ROLLBACK) await pgInsertBarrier(pool, info, OP_ROLLBACK);
}
