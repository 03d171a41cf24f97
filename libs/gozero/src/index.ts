// The public API: what README.md documents, nothing else (the rest of src/ is internal).
import './internal/node-check.ts';

export {
  clientConfFrom,
  confValue,
  type EtcdConf,
  loadClientConf,
  loadServerConf,
  parseListenOn,
  type ReadOptions,
  type RpcClientConf,
  type RpcServerConf,
  readYaml,
  serverConfFrom,
} from './conf/config.ts';
export { ConfigError } from './conf/errors.ts';
export {
  type DevServerConf,
  type ObservabilityConf,
  type ObservabilityMiddlewares,
  observabilityFrom,
  type PrometheusConf,
  type TelemetryBatcher,
  type TelemetryConf,
  telemetryConf,
} from './conf/observability.ts';
export {
  type ClientMiddlewaresConf,
  type MethodTimeoutConf,
  type RedisKeyConf,
  type ServerMiddlewaresConf,
  type ShutdownConf,
  type StatConf,
  setConfigWarningSink,
} from './conf/service-conf.ts';
export { DevServer, DevServerError, PrometheusAgent } from './devserver/server.ts';
export { closeEtcdClients, registerEtcdAccount, registerEtcdTls, useEtcdConf } from './discov/clients.ts';
export { Publisher, type PublisherOptions } from './discov/publisher.ts';
export { Subscriber, type SubscriberListener } from './discov/subscriber.ts';
export { closeLogx, type LogConf, setLogTraceHook } from './logx/logx.ts';
export { logPrintf, stdPrefix } from './logx/std-log.ts';
export { enableMetrics, registry as metricsRegistry, TransMeter } from './metrics/rpc.ts';
export {
  activeTraceHeaders,
  annotateActiveSpan,
  currentTraceIds,
  flushAgent,
  inSpan,
  startAgent,
  stopAgent,
} from './trace/agent.ts';
export { observeClientCall } from './trace/interceptors.ts';
export { AuthError } from './zrpc/auth.ts';
export { newRpcClient, type RpcClientOptions, typedClient } from './zrpc/client.ts';
export { ResolveError, resolveTarget } from './zrpc/resolve.ts';
export { registerResolvers } from './zrpc/resolver.ts';
export { RpcServer, type RpcServerOptions, ServerStartError } from './zrpc/server.ts';
export {
  buildTarget,
  buildTargetV110,
  type ParsedTarget,
  parseServerMethod,
  parseTarget,
  TargetError,
} from './zrpc/target.ts';
