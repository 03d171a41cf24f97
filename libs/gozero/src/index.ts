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
export { closeEtcdClients, etcdClient } from './discov/clients.ts';
export { Publisher, TIME_TO_LIVE_S, withTimeout } from './discov/publisher.ts';
export { formatLogLine, logPrintf, stdPrefix } from './logx/std-log.ts';
export { ResolveError, resolveTarget } from './zrpc/resolve.ts';
export { registerResolvers } from './zrpc/resolver.ts';
export { figureOutListenOn, RpcServer, ServerStartError } from './zrpc/server.ts';
export { buildTarget, type ParsedTarget, parseServerMethod, parseTarget, TargetError } from './zrpc/target.ts';
