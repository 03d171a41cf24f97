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
export { type WaitForStatusOptions, waitForStatus } from './dtm-status.ts';
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
export { freePort } from './ports.ts';
export { etcdPrefix } from './probe.ts';
export { startDtmStack } from './stack.ts';
export type { DtmStore, MysqlServer, RedisServer } from './stores.ts';
export type { DtmStack, DtmStackOptions, DtmStackPorts } from './types.ts';
