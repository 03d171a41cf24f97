// The contract between the XA resource-manager side (local.ts) and its per-database phases (mysql.ts,
// postgres.ts, and the workflow's XA step): the types both sides use and the error both databases read as "no such
// XA transaction". Its own module, so the database files import nothing of each other or of local.ts.
import type { MysqlPool, MysqlPoolConnection } from '../barrier/mysql.ts';
import type { PgPoolClient, PgQueryable } from '../barrier/postgres.ts';
import type { BranchInfo } from '../server.ts';

/** Barrier id of the row an XA branch writes in phase 1 (and its rollback writes if phase 1 never came). */
export const XA_BARRIER_ID = '01';

/** mysql2/promise PoolConnection: the XA branch takes one for itself and destroys it afterwards. */
export type MysqlXaConnection = MysqlPoolConnection & { destroy(): void };

/**
 * A pg Pool, typed so that the client type is inferred from `connect(): Promise<C>` even though pg's Pool also has a
 * callback overload (TypeScript infers from overloads pairwise, from the last one).
 */
export interface PgXaPool<C extends PgPoolClient> extends PgQueryable {
  connect(): Promise<C>;
  connect(callback: never): void;
}

/**
 * The database of an XA branch: a mysql2/promise Pool (MySQL ≥ 5.7.7 / MariaDB ≥ 10.5, whose prepared XA
 * transactions outlive their connection) or a pg Pool (the server needs `max_prepared_transactions` > 0).
 */
export type XaDb<C> = { mysql: MysqlPool<C & MysqlXaConnection> } | { postgres: PgXaPool<C & PgPoolClient> };

/** What an XA branch handler is told: the dtm metadata of the call. */
export type XaBranchInfo = BranchInfo;

/** What the per-database phases need besides the pool: the branch, its XA id, and how to reach the barrier. */
export interface XaBranch {
  info: XaBranchInfo;
  xid: string;
  /** The xa barrier row with this reason (`action` in phase 1, `rollback` after a rollback), as the barrier writes rows. */
  barrierRow(reason: string): [string, string, string, string, string, string];
  /** The barrier table (setBarrierTableName's). */
  barrierTable: string;
  /** Tells dtm to call the phase-2 URL with commit/rollback for this branch. */
  register(): Promise<void>;
  /** The error of a phase 1 that finds its barrier row already there. */
  late(): Error;
}

/**
 * The answer to a commit/rollback of an XA id the server does not hold — MySQL/MariaDB's 1397 XAER_NOTA, or the
 * "does not exist" of either database's message: finished before (a repeated call) or never prepared.
 */
export const isUnknownXid = (err: unknown): boolean =>
  (err as { errno?: unknown })?.errno === 1397 || /XAER_NOTA|does not exist/.test(String((err as Error)?.message));
