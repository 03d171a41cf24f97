// The public API: what README.md's API table lists, nothing else (a test checks the two agree).
import './internal/node-check.ts';

export type { Backend, BackendRequest } from './backend.ts';
export { TestkitError } from './errors.ts';
export { type EtcdOptions, type EtcdServer, type EtcdTlsFiles, startEtcd } from './etcd.ts';
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
export { DTM_SERVICE_KEY } from './local.ts';
export { etcdPrefix } from './probe.ts';
export { startDtmStack } from './stack.ts';
export type { DtmStore, MysqlServer, RedisServer } from './stores.ts';
export type { DtmStack, DtmStackOptions, DtmStackPorts } from './types.ts';
