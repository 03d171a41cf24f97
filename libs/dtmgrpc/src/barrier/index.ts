// Sub-transaction barrier (dtm's barrier table and algorithm) for MySQL/MariaDB (mysql2), PostgreSQL (pg) and
// Redis (ioredis). See libs/dtmgrpc/BARRIER.md.
export {
  BranchBarrier,
  type BranchBarrierOptions,
  barrierFrom,
  barrierFromGrpc,
  barrierFromMetadata,
} from './barrier.ts';
export {
  type BarrierOutcome,
  DEFAULT_BARRIER_TABLE,
  getBarrierTableName,
  MSG_BARRIER_ID,
  MSG_BRANCH_ID,
  OP_ACTION,
  OP_CANCEL,
  OP_COMMIT,
  OP_COMPENSATE,
  OP_CONFIRM,
  OP_MSG,
  OP_ROLLBACK,
  OP_TRY,
  originOp,
  setBarrierTableName,
} from './core.ts';
export { DtmDuplicated, DtmFailure, DtmOngoing } from './errors.ts';
export type { MysqlPool, MysqlPoolConnection, MysqlQueryable, MysqlTxConnection } from './mysql.ts';
export type { PgPool, PgPoolClient, PgQueryable } from './postgres.ts';
export type { RedisEval } from './redis.ts';
