export * from './barrier/index.ts';
export { type BranchCall, typedBranch, urlBranch } from './branch.ts';
export { type CallOptions, closeConnections, DEFAULT_CALL_TIMEOUT_MS, invokeUnary } from './conn.ts';
export {
  DtmDuplicated,
  DtmError,
  DtmFailure,
  DtmInputError,
  DtmOngoing,
  fromGrpcError,
  isServiceError,
  toGrpcStatus,
} from './errors.ts';
export { rawMethod, type UnaryMethod } from './method.ts';
export { type BarrierDb, MsgGrpc } from './msg.ts';
export { SagaGrpc, type SagaMethods, type SagaStep } from './saga.ts';
export { type BranchInfo, branchInfoFromGrpc, branchInfoFromMetadata, dtmHandler } from './server.ts';
export { TccGrpc, type TccMethods, tccGlobalTransaction } from './tcc.ts';
export { genGid, TransBase, type TransOptions, type TransType } from './trans-base.ts';
export {
  type MysqlXaConnection,
  type PgXaPool,
  XA_BARRIER_ID,
  type XaBranchInfo,
  type XaDb,
  XaGrpc,
  xaBranchInfo,
  xaGlobalTransaction,
  xaLocalTransaction,
} from './xa.ts';
