// go-zero's `Auth`: every unary call carries metadata `app` and `token`; the server looks the app's token up in the
// Redis hash `Redis.Key` (cached 5 minutes, as go-zero's collection.Cache) and answers go-zero's codes and
// messages. The client side is `App`/`Token` in RpcClientConf (credentialsInterceptor). Redis is reached with
// ioredis, an optional peer dependency loaded only when Auth is on.
import {
  InterceptingCall,
  type Interceptor,
  type Metadata,
  type Server,
  type ServerUnaryCall,
  type ServiceError,
  type sendUnaryData,
  status,
} from '@grpc/grpc-js';
import type { Redis } from 'ioredis';
import type { RedisKeyConf } from '../conf/service-conf.ts';
import { splitHostPort } from '../internal/host-port.ts';
import { withTimeout } from '../internal/timeout.ts';
import { logx } from '../logx/logx.ts';
import { wrapUnaryHandlers } from './unary-wrap.ts';

/** go-zero's metadata keys and messages (zrpc/internal/auth). */
const APP = 'app';
const TOKEN = 'token';
export const MISSING_METADATA = 'app/token required';
export const ACCESS_DENIED = 'access denied';
/** go-zero's defaultExpiration of a looked-up token. */
const CACHE_MS = 5 * 60_000;

type Handler = (call: ServerUnaryCall<unknown, unknown>, cb: sendUnaryData<unknown>) => void;

export class AuthError extends Error {
  override name = 'AuthError';
}

async function loadIoredis(): Promise<{ Redis: typeof Redis }> {
  try {
    const { Redis } = await import('ioredis');
    return { Redis };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && String(err).includes('ioredis')) {
      throw new AuthError('Auth: true needs the optional peer dependency ioredis: npm install ioredis', { cause: err });
    }
    throw err;
  }
}

/** go-zero's auth.Authenticator, plus the server wrapper that applies it to every unary handler. */
export class Authenticator {
  readonly #conf: RedisKeyConf;
  readonly #strict: boolean;
  readonly #cache = new Map<string, { token: string; until: number }>();
  #client: Promise<Redis> | undefined;
  #closed = false;

  constructor(conf: RedisKeyConf, strict: boolean) {
    this.#conf = conf;
    this.#strict = strict;
  }

  #redis(): Promise<Redis> {
    this.#client ??= loadIoredis().then(({ Redis }) => {
      const { host, port } = splitHostPort(this.#conf.Host) ?? { host: this.#conf.Host, port: 6379 };
      const client = new Redis({
        host,
        port,
        ...(this.#conf.User ? { username: this.#conf.User } : {}),
        ...(this.#conf.Pass ? { password: this.#conf.Pass } : {}),
        ...(this.#conf.Tls ? { tls: {} } : {}),
        connectTimeout: this.#conf.PingTimeout,
        // every lookup has a bound: a Redis that is down fails the lookup, it never holds the call
        commandTimeout: this.#conf.PingTimeout,
        maxRetriesPerRequest: 1,
        retryStrategy: (n) => Math.min(n * 200, 2000),
      });
      let told = false;
      client.on('error', (err: Error) => {
        if (told) return;
        told = true; // once per outage, not once per reconnect attempt
        logx.error(
          `auth: Redis ${this.#conf.Host} (Redis.Host) is not reachable (${err.message}); ${this.#strict ? 'calls are refused (StrictControl)' : 'calls are let through (StrictControl: false)'} until it is`,
        );
      });
      client.on('ready', () => {
        told = false;
      });
      return client;
    });
    return this.#client;
  }

  /** Loads ioredis and, unless Redis.NonBlock, pings Redis within PingTimeout (RpcServer.start() calls it). */
  async ready(): Promise<void> {
    const client = await this.#redis();
    if (this.#conf.NonBlock) return;
    try {
      await withTimeout(client.ping(), this.#conf.PingTimeout, 'Redis ping');
    } catch (err) {
      throw new AuthError(
        `Redis.Host ${this.#conf.Host}: no answer to a ping (${(err as Error).message}); Auth: true looks tokens up there — start Redis, fix Redis.Host, or set Redis.NonBlock: true`,
        { cause: err },
      );
    }
  }

  async #lookup(app: string): Promise<string> {
    const hit = this.#cache.get(app);
    if (hit && hit.until > Date.now()) return hit.token;
    const client = await this.#redis();
    const token = await withTimeout(client.hget(this.#conf.Key, app), this.#conf.PingTimeout * 2, 'Redis HGET');
    // go-redis answers a missing field with its error redis.Nil, which go-zero passes on as is
    if (token === null) throw new Error('redis: nil');
    this.#cache.set(app, { token, until: Date.now() + CACHE_MS });
    return token;
  }

  /** The refusal for a call's metadata (go-zero's codes and messages), or undefined to let it through. */
  async authenticate(md: Metadata): Promise<Partial<ServiceError> | undefined> {
    const app = md.get(APP)[0];
    const token = md.get(TOKEN)[0];
    if (!app || !token) return { code: status.UNAUTHENTICATED, details: MISSING_METADATA };
    let expected: string;
    try {
      expected = await this.#lookup(String(app));
    } catch (err) {
      return this.#strict ? { code: status.INTERNAL, details: (err as Error).message } : undefined;
    }
    return String(token) === expected ? undefined : { code: status.UNAUTHENTICATED, details: ACCESS_DENIED };
  }

  /** go-zero's UnaryAuthorizeInterceptor around one handler. */
  wrap(next: Handler): Handler {
    return (call, cb) => {
      this.authenticate(call.metadata).then(
        (refusal) => (refusal ? cb(refusal) : next(call, cb)),
        (err: Error) => cb({ code: status.INTERNAL, details: err.message }),
      );
    };
  }

  /**
   * Services added to `server` from now on: unary handlers wrapped; a streaming method refused at `addService`,
   * since its calls would not be checked.
   */
  install(server: Server): void {
    const add = server.addService.bind(server);
    server.addService = (service, impl) => {
      for (const def of Object.values(service)) {
        if (def.requestStream || def.responseStream) {
          throw new AuthError(
            `Auth: true checks unary calls only, and ${def.path} streams; serve it from a server without Auth`,
          );
        }
      }
      add(service, impl);
    };
    wrapUnaryHandlers(server, (h) => this.wrap(h));
  }

  async close(): Promise<void> {
    if (this.#closed || !this.#client) return;
    this.#closed = true;
    const client = await this.#client.catch(() => undefined);
    client?.disconnect();
  }
}

/** go-zero's client Credential: metadata `app` and `token` on every call. */
export function credentialsInterceptor(app: string, token: string): Interceptor {
  return (options, nextCall) =>
    new InterceptingCall(nextCall(options), {
      start: (metadata, listener, next) => {
        metadata.set(APP, app);
        metadata.set(TOKEN, token);
        next(metadata, listener);
      },
    });
}
