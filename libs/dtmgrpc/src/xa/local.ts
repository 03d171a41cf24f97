// XA, resource-manager side (dtm's `XaLocalTransaction`): what a branch handler runs, for MySQL/MariaDB
// (mysql.ts) or PostgreSQL (postgres.ts). The barrier row it writes is the barrier's own insert.
import { Metadata } from '@grpc/grpc-js';
import { getBarrierTableName, OP_ACTION, OP_COMMIT, OP_ROLLBACK } from '../barrier/core.ts';
import { checkPromiseApi, type MysqlPool } from '../barrier/mysql.ts';
import type { PgPoolClient } from '../barrier/postgres.ts';
import { dtmCall } from '../conn.ts';
import { DtmFailure, DtmInputError } from '../errors.ts';
import { DtmService } from '../gen/dtmgimp.ts';
import { branchInfoFromMetadata } from '../server.ts';
import {
  type MysqlXaConnection,
  type PgXaPool,
  XA_BARRIER_ID,
  type XaBranch,
  type XaBranchInfo,
  type XaDb,
} from './contract.ts';
import { mysqlPhase1, mysqlPhase2 } from './mysql.ts';
import { pgPhase1, pgPhase2 } from './postgres.ts';

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

/** Tells dtm to call the branch's phase-2 URL with commit/rollback (what dtm's XaLocalTransaction registers). */
async function registerXaBranch(info: XaBranchInfo): Promise<void> {
  await dtmCall(
    info.dtm,
    DtmService.registerBranch,
    {
      Gid: info.gid,
      TransType: 'xa',
      BranchID: info.branchId,
      Op: '',
      Data: { url: info.phase2Url },
      BusiPayload: Buffer.alloc(0),
    },
    'RegisterBranch',
  );
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
  const branch = (xid: string): XaBranch => ({
    info,
    xid,
    barrierRow: (reason) => ['xa', info.gid, info.branchId, OP_ACTION, XA_BARRIER_ID, reason],
    barrierTable: getBarrierTableName(),
    register: () => registerXaBranch(info),
    late: () =>
      new DtmFailure(
        `xa ${info.gid} branch ${info.branchId}: phase 1 already ran, or its rollback came first; not running it again`,
      ),
  });
  if ('mysql' in db) {
    const b = branch(xaId(info, 64, 'MySQL'));
    checkPromiseApi(db.mysql, 'xaLocalTransaction: db.mysql');
    if (info.op === OP_ACTION) await mysqlPhase1(db.mysql, b, fn as (c: C & MysqlXaConnection) => unknown);
    else await mysqlPhase2(db.mysql, b);
  } else {
    const b = branch(xaId(info, 199, 'Postgres'));
    if (info.op === OP_ACTION) await pgPhase1(db.postgres, b, fn as (c: C & PgPoolClient) => unknown);
    else await pgPhase2(db.postgres, b);
  }
}
