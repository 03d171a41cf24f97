// The public API: what README.md's API table lists, nothing else (a test checks the two agree).
import './internal/node-check.ts';

export type { Backend, BackendRequest } from './backend-types.ts';
export { type BarrierTableDb, ensureBarrierTable, type SqlQueryable } from './barrier.ts';
export {
  type DatabaseKind,
  type DatabasesOptions,
  type MysqlDatabase,
  type PostgresDatabase,
  type RedisDatabase,
  reapOrphanedDatabases,
  startDatabases,
  type TestDatabases,
} from './databases.ts';
export { type DtmInstanceOptions, dtmInstanceConfig } from './dtm-instance.ts';
export { type DtmBranch, type DtmTrans, queryTrans, type WaitForStatusOptions, waitForStatus } from './dtm-status.ts';
export { TestkitError } from './errors.ts';
export { type EtcdOptions, type EtcdServer, type EtcdTlsFiles, startEtcd } from './etcd.ts';
export { DTM_SERVICE_KEY } from './etcd-args.ts';
export {
  inClusterCommand,
  KUBE_VERSION,
  type KubeApiServer,
  type KubeApiServerOptions,
  type KubePod,
  type KubeServiceAccount,
  podIp,
  startKubeApiServer,
} from './kube.ts';
export { localBinaries } from './paths.ts';
export { pidAlive } from './pid.ts';
export { freePort, freePorts, portOpen } from './ports.ts';
export { dtmPing, etcdHealthy, etcdPrefix, waitUntil } from './probe.ts';
export { startDtmStack } from './stack.ts';
export { createMysqlDatabase, type DtmStore, type MysqlServer, type RedisServer } from './stores.ts';
export type { DtmStack, DtmStackOptions, DtmStackPorts } from './types.ts';
