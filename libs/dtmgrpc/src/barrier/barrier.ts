// BranchBarrier: the identity of one branch call (trans type, gid, branch id, op) plus a counter of barrier
// calls made with it, and the entry points of the SQL and Redis barriers.
import type { Metadata } from '@grpc/grpc-js';
import { DtmInputError } from '../errors.ts';
import { type BarrierCore, type BarrierOutcome, checkTableName, formatBarrierId, getBarrierTableName } from './core.ts';
import {
  type MysqlPool,
  type MysqlPoolConnection,
  type MysqlQueryable,
  type MysqlTxConnection,
  mysqlCall,
  mysqlCallWithPool,
  mysqlQueryPrepared,
} from './mysql.ts';
import {
  type NotAPool,
  type PgPool,
  type PgPoolClient,
  type PgQueryable,
  postgresCall,
  postgresCallWithPool,
  postgresQueryPrepared,
} from './postgres.ts';
import { checkWaitMs, REDIS_WAIT_MS, type RedisEval, redisCheckAdjustAmount, redisQueryPrepared } from './redis.ts';

export interface BranchBarrierOptions {
  /** Barrier table for this barrier only (`[schema.]table`); default: setBarrierTableName's, `dtm_barrier.barrier`. */
  barrierTableName?: string;
  /**
   * How long a Redis barrier call waits for Redis (default 2000 ms, under dtm's 3 s RequestTimeout): a hung or
   * unreachable Redis then fails the branch with a retriable error instead of holding dtm's call open.
   */
  redisWaitMs?: number;
}

export class BranchBarrier implements BarrierCore {
  readonly transType: string;
  readonly gid: string;
  readonly branchId: string;
  readonly op: string;
  readonly barrierTableName: string | undefined;
  readonly redisWaitMs: number;
  #barrierId = 0;

  constructor(transType: string, gid: string, branchId: string, op: string, options: BranchBarrierOptions = {}) {
    const missing = [
      ['trans_type', transType],
      ['gid', gid],
      ['branch_id', branchId],
      ['op', op],
    ].filter(([, v]) => !v);
    if (missing.length > 0) {
      throw new DtmInputError(
        `invalid trans info: ${missing.map(([k]) => k).join(', ')} empty ` +
          `(trans_type=${JSON.stringify(transType)} gid=${JSON.stringify(gid)} ` +
          `branch_id=${JSON.stringify(branchId)} op=${JSON.stringify(op)})`,
      );
    }
    // The barrier table's columns (dtm's layout). MySQL's `insert ignore` would truncate a longer value, so two gids
    // sharing their first 128 characters would share barrier rows, and the second transaction's branch be skipped as
    // a duplicate: success with nothing done. Postgres would refuse it with an error dtm retries forever.
    const tooLong = (
      [
        ['trans_type', transType, 45],
        ['gid', gid, 128],
        ['branch_id', branchId, 128],
        ['op', op, 45],
      ] as const
    ).filter(([, v, max]) => [...v].length > max);
    if (tooLong.length > 0) {
      throw new DtmInputError(
        `invalid trans info: ${tooLong.map(([k, v, max]) => `${k} of ${[...v].length} characters (at most ${max})`).join(', ')}; ` +
          "dtm's gids and ops fit the barrier table",
      );
    }
    this.transType = transType;
    this.gid = gid;
    this.branchId = branchId;
    this.op = op;
    this.barrierTableName =
      options.barrierTableName === undefined ? undefined : checkTableName(options.barrierTableName);
    this.redisWaitMs = checkWaitMs(options.redisWaitMs ?? REDIS_WAIT_MS);
  }

  /** How many barrier calls this object has made; the last barrier id used is this number, `%02d`. */
  get barrierId(): number {
    return this.#barrierId;
  }

  /**
   * Advances the counter and returns the next barrier id (`01`, `02`, …). Each barrier call does this once: the
   * n-th call of a cancel/compensate pairs with the n-th call of its try/action.
   */
  newBarrierId(): string {
    this.#barrierId += 1;
    return formatBarrierId(this.#barrierId);
  }

  tableName(): string {
    return this.barrierTableName ?? getBarrierTableName();
  }

  toString(): string {
    return `transInfo: ${this.transType} ${this.gid} ${this.branchId} ${this.op}`;
  }

  /**
   * Runs busi in a new MySQL transaction guarded by the barrier (mysql2/promise Pool): busi runs at most once per
   * (gid, branch, op, barrier id), not at all for a null compensation or a try/action after its cancel. busi gets
   * the transaction's connection; its writes commit together with the barrier row, or roll back with it when busi
   * throws (the error is rethrown).
   */
  callWithMysql<C extends MysqlPoolConnection>(pool: MysqlPool<C>, busi: (tx: C) => unknown): Promise<BarrierOutcome> {
    return mysqlCallWithPool(this, pool, busi);
  }

  /** As callWithMysql, inside a transaction already begun on `tx`; commits or rolls it back. */
  callMysql<C extends MysqlTxConnection>(tx: C, busi: (tx: C) => unknown): Promise<BarrierOutcome> {
    return mysqlCall(this, tx, busi);
  }

  /** As callWithMysql, on PostgreSQL (pg Pool); busi gets the transaction's PoolClient. */
  callWithPostgres<C extends PgPoolClient>(pool: PgPool<C>, busi: (tx: C) => unknown): Promise<BarrierOutcome> {
    return postgresCallWithPool(this, pool, busi);
  }

  /**
   * As callWithPostgres, inside a transaction already begun (`BEGIN`) on the client `tx`; commits or rolls it back.
   * A pool is refused (by the type, and at run time): its statements could run on different connections.
   */
  callPostgres<C extends PgQueryable & NotAPool>(tx: C, busi: (tx: C) => unknown): Promise<BarrierOutcome> {
    return postgresCall(this, tx, busi);
  }

  /**
   * Adjusts the integer at `key` by `amount` through the barrier, atomically in Redis; throws DtmFailure when the key
   * is missing or the result would be negative or past int64 (never for a null compensation). Barrier keys expire after `expireSeconds`.
   */
  redisCheckAdjustAmount(
    redis: RedisEval,
    key: string,
    amount: number,
    expireSeconds: number,
  ): Promise<BarrierOutcome> {
    return redisCheckAdjustAmount(this, redis, key, amount, expireSeconds, this.redisWaitMs);
  }

  /**
   * QueryPrepared for a 2-phase message whose local step ran through this barrier table: resolves when that step
   * committed (answer OK), throws DtmFailure when it did not — and then never can (answer ABORTED).
   */
  queryPreparedMysql(db: MysqlQueryable): Promise<void> {
    return mysqlQueryPrepared(this, db);
  }

  /** QueryPrepared on PostgreSQL; see queryPreparedMysql. */
  queryPreparedPostgres(db: PgQueryable): Promise<void> {
    return postgresQueryPrepared(this, db);
  }

  /** QueryPrepared on Redis (for a msg whose local step used redisCheckAdjustAmount); see queryPreparedMysql. */
  queryPreparedRedis(redis: RedisEval, expireSeconds: number): Promise<void> {
    return redisQueryPrepared(this, redis, expireSeconds, this.redisWaitMs);
  }
}

/** A barrier from explicit values (all four required, as from an HTTP branch's query string). */
export function barrierFrom(
  transType: string,
  gid: string,
  branchId: string,
  op: string,
  options?: BranchBarrierOptions,
): BranchBarrier {
  return new BranchBarrier(transType, gid, branchId, op, options);
}

function first(md: Metadata, key: string): string {
  const v = md.get(key)[0];
  if (v === undefined) return '';
  return typeof v === 'string' ? v : v.toString('utf8');
}

/**
 * A barrier from the metadata dtm (or a dtm client) sends with every branch call: `dtm-trans_type`, `dtm-gid`,
 * `dtm-branch_id`, `dtm-op` (first value of each). Throws when any is missing or empty.
 */
export function barrierFromMetadata(md: Metadata, options?: BranchBarrierOptions): BranchBarrier {
  const keys = ['dtm-trans_type', 'dtm-gid', 'dtm-branch_id', 'dtm-op'] as const;
  const [transType, gid, branchId, op] = keys.map((k) => first(md, k)) as [string, string, string, string];
  const missing = keys.filter((k) => first(md, k) === '');
  if (missing.length > 0) {
    // DtmInputError: a handler answers INVALID_ARGUMENT (toGrpcStatus), not UNKNOWN, which dtm would retry
    throw new DtmInputError(
      `invalid trans info: gRPC metadata ${missing.join(', ')} missing or empty ` +
        '(is this method called by dtm, or through a dtm client that sets the branch metadata?)',
    );
  }
  return new BranchBarrier(transType, gid, branchId, op, options);
}

/** barrierFromMetadata for the call a grpc-js handler receives (ServerUnaryCall and the other call kinds). */
export function barrierFromGrpc(call: { readonly metadata: Metadata }, options?: BranchBarrierOptions): BranchBarrier {
  return barrierFromMetadata(call.metadata, options);
}
