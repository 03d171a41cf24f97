import { createServer } from 'node:net';
import { networkInterfaces } from 'node:os';
import { Server, ServerCredentials, status } from '@grpc/grpc-js';
import { parseListenOn, type RpcServerConf } from '../conf/config.ts';
import type { MethodTimeoutConf } from '../conf/service-conf.ts';
import { ServiceObservers } from '../devserver/observe.ts';
import { Publisher } from '../discov/publisher.ts';
import { flushLogx } from '../logx/logx.ts';
import { RequestStat, startUsageStat } from '../stat/stat.ts';
import { Authenticator } from './auth.ts';
import { HealthServer, ServingStatus } from './health.ts';
import { installServerMiddlewares } from './server-middlewares.ts';
import { wrapUnaryHandlers } from './unary-wrap.ts';

/**
 * The address go-zero publishes for a ListenOn: as is, unless the host is empty or 0.0.0.0 (then POD_IP or the
 * machine's first non-loopback IPv4, go-zero's `netx.InternalIp`). Throws when there is no such address:
 * publishing `0.0.0.0:port` would hand callers an address they cannot dial.
 */
export function figureOutListenOn(listenOn: string): string {
  const { host, port } = parseListenOn(listenOn);
  if (host !== '' && host !== '0.0.0.0') return listenOn;
  const ip = process.env.POD_IP || firstInternalIp();
  if (!ip) {
    throw new ServerStartError(
      `ListenOn ${listenOn}: cannot publish it in etcd, the machine has no non-loopback IPv4 and POD_IP is unset; set ListenOn to an address callers can reach (e.g. 127.0.0.1:${port}) or set POD_IP`,
    );
  }
  return `${ip}:${port}`;
}

/**
 * Whether `host:port` is taken, found by listening there for a moment: grpc-js would log its own
 * "No address added…" line before our one-line error, so a taken port is caught before it binds.
 */
function portTaken(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'EADDRINUSE'));
    probe.listen({ host: host === '' ? '0.0.0.0' : host, port, exclusive: true }, () =>
      probe.close(() => resolve(false)),
    );
  });
}

function firstInternalIp(): string | undefined {
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}

export class ServerStartError extends Error {
  override name = 'ServerStartError';
}

/** go-zero's `Shutdown.WaitTime` default: how long in-flight calls may finish after a stop. */
export const DRAIN_MS = 5500;
/** go-zero's wrapUpTime: between deregistering and refusing new calls. */
const WRAP_UP_MS = 1000;

export interface RpcServerOptions {
  /** Lease TTL of the registration in seconds (default go-zero's 10); tests use short ones. */
  ttlSeconds?: number | undefined;
  /** ms between go-zero's stat lines (the usage line and the request line; default 60 000); tests use short ones. */
  statIntervalMs?: number | undefined;
}

/**
 * A gRPC server run the go-zero way: listens on `ListenOn`, then (when `Etcd` is set) registers its address
 * under `<Etcd.Key>/<lease>` (or `<Etcd.Key>/<Etcd.ID>`), serves `grpc.health.v1.Health` (SERVING once
 * registered) and ends unary handlers that outlive `Timeout` with DEADLINE_EXCEEDED; `stop()` turns health
 * NOT_SERVING, revokes the registration, then lets in-flight calls finish for up to 5.5 s.
 */
export class RpcServer {
  readonly server = new Server();
  readonly conf: RpcServerConf;
  readonly health: HealthServer | undefined;
  readonly #options: RpcServerOptions;
  /** Telemetry, DevServer, Prometheus and their interceptors (devserver/observe.ts). */
  readonly observers: ServiceObservers;
  /** go-zero's per-minute request stat line of this server. */
  readonly #stat: RequestStat;
  readonly #auth: Authenticator | undefined;
  #ready = false;
  #publisher: Publisher | undefined;
  #boundPort: number | undefined;

  constructor(conf: RpcServerConf, register: (server: Server) => void, options: RpcServerOptions = {}) {
    this.conf = conf;
    this.#options = options;
    if (conf.Health !== false) {
      this.health = new HealthServer();
      this.health.addTo(this.server);
    }
    // Installed first, so it runs outermost (go-zero: tracing and metrics before the timeout interceptor).
    this.observers = new ServiceObservers(conf, this.server, () => this.#ready);
    // go-zero's Stat, Breaker and Shedding interceptors: inside tracing and metrics, outside Timeout
    this.#stat = new RequestStat(conf.Name, options.statIntervalMs);
    installServerMiddlewares(this.server, conf, this.#stat);
    startUsageStat(options.statIntervalMs);
    if (conf.Timeout > 0) withUnaryTimeout(this.server, conf.Timeout, conf.MethodTimeouts ?? []);
    // go-zero adds its auth interceptor last: innermost, inside the timeout
    if (conf.Auth) {
      if (!conf.Redis) throw new ServerStartError('Auth: true needs Redis {Host, Key}: the hash of app tokens');
      this.#auth = new Authenticator(conf.Redis, conf.StrictControl ?? false);
      this.#auth.install(this.server);
    }
    register(this.server);
  }

  /** The port the server listens on once started (the system's pick for a ListenOn port of 0). */
  get port(): number | undefined {
    return this.#boundPort;
  }

  /** The etcd key this server registered under, if any. */
  get registeredKey(): string | undefined {
    return this.#publisher?.key;
  }

  /** Binds, then registers. Rejects with a clear message when the port is taken or etcd is unreachable. */
  async start(): Promise<void> {
    const { ListenOn } = this.conf;
    // Checked before binding: nothing is half-started when the address cannot be published.
    let published = this.conf.Etcd ? figureOutListenOn(ListenOn) : ListenOn;
    const bindTo = ListenOn.startsWith(':') ? `0.0.0.0${ListenOn}` : ListenOn;
    const inUseMessage = `ListenOn ${ListenOn}: the port is already in use; stop the other process or choose another ListenOn`;
    const { host, port } = parseListenOn(ListenOn);
    if (port > 0 && (await portTaken(host, port))) throw new ServerStartError(inUseMessage);
    try {
      await this.#auth?.ready();
    } catch (err) {
      await this.#auth?.close();
      throw new ServerStartError((err as Error).message, { cause: err });
    }
    await this.observers.start();
    const bound = await new Promise<number>((resolve, reject) => {
      this.server.bindAsync(bindTo, ServerCredentials.createInsecure(), (err, port) => {
        if (!err) return resolve(port);
        const inUse = /EADDRINUSE|address already in use/i.test(err.message);
        reject(
          new ServerStartError(inUse ? inUseMessage : `ListenOn ${ListenOn}: cannot listen (${err.message})`, {
            cause: err,
          }),
        );
      });
    }).catch(async (err) => {
      await this.observers.stop();
      throw err;
    });
    // `host:0` binds a port the system picks: publish that one, never ":0", which no caller can dial.
    if (port === 0) published = `${published.slice(0, published.lastIndexOf(':'))}:${bound}`;
    this.#boundPort = bound;
    if (this.conf.Etcd) {
      try {
        this.#publisher = new Publisher(this.conf.Etcd, published, {
          id: this.conf.Etcd.ID,
          ttlSeconds: this.#options.ttlSeconds,
        });
        await this.#publisher.keepAlive();
      } catch (err) {
        this.server.forceShutdown();
        await this.observers.stop();
        // one error type for every way start() fails, so a caller can tell a start failure from its own bugs
        if (err instanceof ServerStartError) throw err;
        throw new ServerStartError((err as Error).message, { cause: err });
      }
    }
    this.health?.setServingStatus('', ServingStatus.SERVING);
    this.#ready = true;
  }

  /**
   * NOT_SERVING and deregistered at once (lease revoked: the key goes), then, as go-zero's proc shutdown does,
   * a 1 s wrap-up so that clients apply the removal before the server stops taking calls, then a drain of
   * in-flight calls; whatever is still running at `graceMs` (go-zero's 5.5 s) is cut.
   */
  async stop(graceMs = this.conf.Shutdown?.WaitTime ?? DRAIN_MS): Promise<void> {
    const wrapUpMs = this.conf.Shutdown?.WrapUpTime ?? WRAP_UP_MS;
    const deadline = Date.now() + graceMs;
    this.#ready = false;
    this.health?.shutdown();
    try {
      await this.#publisher?.stop();
    } finally {
      if (this.#publisher)
        await new Promise((r) => setTimeout(r, Math.max(0, Math.min(wrapUpMs, deadline - Date.now()))));
      await new Promise<void>((resolve) => {
        const force = setTimeout(
          () => {
            this.server.forceShutdown();
            resolve();
          },
          Math.max(0, deadline - Date.now()),
        );
        this.server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
      await this.observers.stop();
      this.#stat.stop();
      await this.#auth?.close();
      // a program exits right after stop(): its last lines (the final stat line among them) reach the log files first
      await flushLogx();
    }
  }
}

/**
 * go-zero's `UnaryTimeoutInterceptor`: a unary handler still running after `ms` — or after its method's entry in
 * `MethodTimeouts`, which wins over `ms` — is answered with DEADLINE_EXCEEDED (its late answer is dropped). A
 * caller's shorter deadline still ends the call first, as in go-zero. Installed by wrapping every unary handler
 * added later.
 */
function withUnaryTimeout(server: Server, ms: number, perMethod: readonly MethodTimeoutConf[]): void {
  const byMethod = new Map(perMethod.map((m) => [m.FullMethod, m.Timeout]));
  wrapUnaryHandlers(server, (h, path) => {
    const own = byMethod.get(path);
    const limit = own ?? ms;
    const what = own === undefined ? `the server Timeout of ${ms} ms` : `its MethodTimeouts entry of ${own} ms`;
    return (call, cb) => {
      let done = false;
      const timer = setTimeout(() => {
        done = true;
        cb({ code: status.DEADLINE_EXCEEDED, details: `handler did not finish within ${what}` });
      }, limit);
      h(call, (err, value, trailer, flags) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        cb(err, value, trailer, flags);
      });
    };
  });
}
