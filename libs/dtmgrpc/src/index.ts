export { type BranchCall, typedBranch, urlBranch } from './branch.ts';
export { type CallOptions, closeConnections, DEFAULT_CALL_TIMEOUT_MS, invokeUnary } from './conn.ts';
export {
  DtmError,
  DtmFailure,
  DtmInputError,
  DtmOngoing,
  fromGrpcError,
  isServiceError,
  toGrpcStatus,
} from './errors.ts';
export { rawMethod, type UnaryMethod } from './method.ts';
export { MsgGrpc } from './msg.ts';
export { type TccMethods, TccGrpc, tccGlobalTransaction } from './tcc.ts';
export { genGid, type TransOptions, TransBase, type TransType } from './trans-base.ts';
