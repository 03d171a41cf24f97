// The public API: what README.md's API table lists, nothing else (a test checks the two agree).
import './internal/node-check.ts';

export {
  BranchBarrier,
  type BranchBarrierOptions,
  barrierFrom,
  barrierFromGrpc,
  barrierFromMetadata,
} from './barrier/barrier.ts';
export { type BarrierOutcome, setBarrierTableName } from './barrier/core.ts';
export { barrierTableDdl } from './barrier/ddl.ts';
export { closeConnections } from './conn.ts';
export {
  DtmDuplicated,
  DtmError,
  DtmFailure,
  DtmInputError,
  DtmOngoing,
  DtmRolledBack,
  DtmTopicError,
  DtmUnfinished,
  fromGrpcError,
  toGrpcStatus,
} from './errors.ts';
export { rawMethod, type UnaryMethod } from './method.ts';
export { type BarrierDb, MsgGrpc } from './msg.ts';
export { SagaGrpc, type SagaMethods } from './saga.ts';
export {
  type BranchInfo,
  branchAnswer,
  branchInfoFromGrpc,
  dtmHandler,
  failureRollsBack,
  stuckBranchCount,
} from './server.ts';
export { TccGrpc, type TccMethods, tccFromGrpc, tccGlobalTransaction } from './tcc.ts';
export { deleteTopic, subscribe, unsubscribe } from './topics.ts';
export { genGid, localGid, type TransOptions } from './trans-base.ts';
export {
  type ExecuteOptions,
  WorkflowDataError,
  type WorkflowDataType,
  type WorkflowHandler,
  WorkflowRegistry,
} from './workflow/registry.ts';
export { Workflow, type WorkflowOptions, type WorkflowPhase2 } from './workflow/workflow.ts';
export type { MysqlXaConnection, PgXaPool, XaBranchInfo, XaDb } from './xa/contract.ts';
export { xaLocalTransaction } from './xa/local.ts';
export { XaGrpc, xaGlobalTransaction } from './xa/xa.ts';
