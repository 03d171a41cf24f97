export {
  clientConfFrom,
  type EtcdConf,
  loadClientConf,
  loadServerConf,
  parseListenOn,
  type RpcClientConf,
  type RpcServerConf,
  readYaml,
  serverConfFrom,
} from './conf/config.ts';
export { ConfigError } from './conf/errors.ts';
export { closeEtcdClients, etcdClient, registerEtcdAccount, registerEtcdTls, useEtcdConf } from './discov/clients.ts';
export { Publisher, TIME_TO_LIVE_S } from './discov/publisher.ts';
export { Subscriber } from './discov/subscriber.ts';
export { formatLogLine, logPrintf, stdPrefix } from './logx/std-log.ts';
export { HealthServer, ServingStatus } from './zrpc/health.ts';
export { P2C } from './zrpc/p2c.ts';
export { ResolveError, resolveTarget } from './zrpc/resolve.ts';
export { registerResolvers } from './zrpc/resolver.ts';
export { figureOutListenOn, RpcServer, ServerStartError } from './zrpc/server.ts';
export { buildTarget, type ParsedTarget, parseServerMethod, parseTarget, TargetError } from './zrpc/target.ts';
