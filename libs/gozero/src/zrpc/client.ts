import {
  type ChannelCredentials,
  type ChannelOptions,
  Client,
  type ClientOptions,
  credentials,
  InterceptingCall,
  type Interceptor,
} from '@grpc/grpc-js';
import type { RpcClientConf } from '../conf/config.ts';
import { useEtcdConf } from '../discov/clients.ts';
import { clientObserveInterceptor } from '../trace/interceptors.ts';
import { credentialsInterceptor } from './auth.ts';
import { clientInterceptors } from './client-middlewares.ts';
import { resolveTarget } from './resolve.ts';
import { registerResolvers } from './resolver.ts';
import { buildTarget, parseTarget } from './target.ts';

/** go-zero's dialTimeout: how long a blocking (NonBlock: false) client waits for a ready connection. */
export const DIAL_TIMEOUT_MS = 3000;

export interface RpcClientOptions {
  /** `p2c_ewma` (default, go-zero's) or `round_robin`; overrides the conf's `BalancerName`. */
  balancer?: 'p2c_ewma' | 'round_robin' | undefined;
  /** Extra @grpc/grpc-js channel options. */
  channelOptions?: ChannelOptions | undefined;
}

/** go-zero's client `TimeoutInterceptor`: every call gets a deadline of at most `ms` from now. */
function timeoutInterceptor(ms: number): Interceptor {
  return (options, next) => {
    const limit = Date.now() + ms;
    const d = options.deadline;
    const current = d === undefined ? Number.POSITIVE_INFINITY : d instanceof Date ? d.getTime() : d;
    return new InterceptingCall(next({ ...options, deadline: Math.min(current, limit) }));
  };
}

const clientInterceptorsOf = new WeakMap<Client, Interceptor[]>();

/**
 * A typed client (a ts-proto `…Client` constructor) on `newRpcClient`'s channel, with its interceptors (Timeout,
 * breaker…): go-zero's `pb.NewXClient(zrpc.MustNewClient(c).Conn())`. Closing either closes the shared channel.
 */
export function typedClient<T>(
  client: Client,
  Ctor: new (address: string, creds: ChannelCredentials, options?: ClientOptions) => T,
): T {
  return new Ctor(client.getChannel().getTarget(), credentials.createInsecure(), {
    channelOverride: client.getChannel(),
    interceptors: clientInterceptorsOf.get(client) ?? [],
  });
}

/**
 * go-zero's `zrpc.NewClient`: a gRPC client for `RpcClientConf` (Etcd, Endpoints or Target) that registers the
 * config's etcd account/TLS, balances with p2c, gives every call the config's `Timeout` and, unless `NonBlock`,
 * waits up to 3 s for a ready instance — rejecting with why there is none (etcd unreachable, nothing
 * registered, instances refusing) instead of hanging. Close it with `client.close()`.
 */
export async function newRpcClient(conf: RpcClientConf, options: RpcClientOptions = {}): Promise<Client> {
  if (conf.Etcd) useEtcdConf(conf.Etcd);
  const target = buildTarget(conf);
  parseTarget(target);
  registerResolvers();
  const channelOptions: ChannelOptions = { ...options.channelOptions };
  if ((options.balancer ?? conf.BalancerName) === 'round_robin') {
    channelOptions['grpc.service_config'] = JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] });
  }
  if (conf.KeepaliveTime && !('grpc.keepalive_time_ms' in channelOptions)) {
    channelOptions['grpc.keepalive_time_ms'] = Math.round(conf.KeepaliveTime);
  }
  // Tracing and metrics first (outermost), then Duration and Breaker, as go-zero's client chain; then the deadline.
  const interceptors = [
    // go-zero sends App/Token as per-call credentials when both are set
    ...(conf.App && conf.Token ? [credentialsInterceptor(conf.App, conf.Token)] : []),
    clientObserveInterceptor(conf.Middlewares),
    ...clientInterceptors(target, conf.Middlewares),
    ...(conf.Timeout > 0 && conf.Middlewares?.Timeout !== false ? [timeoutInterceptor(conf.Timeout)] : []),
  ];
  const client = new Client(target, credentials.createInsecure(), { ...channelOptions, interceptors });
  clientInterceptorsOf.set(client, interceptors);
  if (conf.NonBlock) return client;
  try {
    await new Promise<void>((resolve, reject) => {
      client.waitForReady(Date.now() + DIAL_TIMEOUT_MS, (err) => (err ? reject(err) : resolve()));
    });
  } catch (err) {
    client.close();
    let why = 'no instance accepted a connection';
    try {
      await resolveTarget(target, DIAL_TIMEOUT_MS);
    } catch (resolveErr) {
      why = (resolveErr as Error).message;
    }
    throw new Error(
      `rpc dial ${target}: not ready within ${DIAL_TIMEOUT_MS} ms (${why}); make sure the service is started and registered, or set NonBlock: true`,
      { cause: err },
    );
  }
  return client;
}
