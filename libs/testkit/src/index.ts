export {
  BACKEND_ENV,
  type Backend,
  type BackendRequest,
  chooseBackend,
  dockerEngine,
  requestedBackend,
} from './backend.ts';
export { containerSpecs, IMAGES } from './docker.ts';
export { dtmConfig, dtmEnv, dtmEnvName, mysqlStorageDdl, readSharedDtmConfig } from './dtm-config.ts';
export { TestkitError } from './errors.ts';
export { type EtcdOptions, type EtcdServer, type EtcdTlsFiles, startEtcd } from './etcd.ts';
export { DTM_SERVICE_KEY } from './local.ts';
export { etcdPrefix } from './probe.ts';
export { startDtmStack } from './stack.ts';
export { DB_SH_MYSQL, DB_SH_REDIS, type DtmStore, type MysqlServer, type RedisServer, STORES } from './stores.ts';
export type { DtmStack, DtmStackOptions, DtmStackPorts } from './types.ts';
