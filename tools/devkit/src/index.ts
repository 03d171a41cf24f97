// @dtm-gozero/devkit: the repository's own test support (private, never published). This entry loads no test
// runner, so scripts may use it too; the integration stack's helpers are in `@dtm-gozero/devkit/stack` and `/dtm`.
export {
  type DtmBranch,
  type DtmTrans,
  freePort,
  freePorts,
  pidAlive,
  portOpen,
  queryTrans,
} from '@dtm-gozero/testkit';
export { forceStop } from './dtm-api.ts';
export { DIRECT_DRAIN, GOZERO_INSTANCE, SHED_INSTANCE, WORKFLOW_SERVICE } from './fixtures.ts';
export { stopGrpcServer } from './grpc.ts';
export { eventually, until } from './poll.ts';
export {
  APP,
  bin,
  type Proc,
  reapTempDirs,
  root,
  runCommand,
  runNode,
  type StartOptions,
  start,
  TRANS,
  tempFile,
} from './procs.ts';
