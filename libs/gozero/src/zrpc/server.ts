import { createServer } from 'node:net';
import { networkInterfaces } from 'node:os';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { parseListenOn, type RpcServerConf } from '../conf/config.ts';
import { Publisher } from '../discov/publisher.ts';

/** The address go-zero publishes for a ListenOn: as is, unless the host is empty or 0.0.0.0 (then POD_IP or the first non-loopback IPv4). */
export function figureOutListenOn(listenOn: string): string {
  const { host, port } = parseListenOn(listenOn);
  if (host !== '' && host !== '0.0.0.0') return listenOn;
  const ip = process.env.POD_IP || firstInternalIp();
  return ip ? `${ip}:${port}` : listenOn;
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

/**
 * A gRPC server run the go-zero way: listens on `ListenOn`, then (when `Etcd` is set) registers its address
 * under `<Etcd.Key>/<lease>`; `stop()` revokes the registration first, then drains calls.
 */
export class RpcServer {
  readonly server = new Server();
  readonly conf: RpcServerConf;
  #publisher: Publisher | undefined;

  constructor(conf: RpcServerConf, register: (server: Server) => void) {
    this.conf = conf;
    register(this.server);
  }

  /** The etcd key this server registered under, if any. */
  get registeredKey(): string | undefined {
    return this.#publisher?.key;
  }

  /** Binds, then registers. Rejects with a clear message when the port is taken or etcd is unreachable. */
  async start(): Promise<void> {
    const { ListenOn } = this.conf;
    const bindTo = ListenOn.startsWith(':') ? `0.0.0.0${ListenOn}` : ListenOn;
    const inUseMessage = `ListenOn ${ListenOn}: the port is already in use; stop the other process or choose another ListenOn`;
    const { host, port } = parseListenOn(ListenOn);
    if (port > 0 && (await portTaken(host, port))) throw new ServerStartError(inUseMessage);
    await new Promise<number>((resolve, reject) => {
      this.server.bindAsync(bindTo, ServerCredentials.createInsecure(), (err, port) => {
        if (!err) return resolve(port);
        const inUse = /EADDRINUSE|address already in use/i.test(err.message);
        reject(
          new ServerStartError(inUse ? inUseMessage : `ListenOn ${ListenOn}: cannot listen (${err.message})`, {
            cause: err,
          }),
        );
      });
    });
    if (this.conf.Etcd) {
      this.#publisher = new Publisher(this.conf.Etcd, figureOutListenOn(ListenOn));
      try {
        await this.#publisher.keepAlive();
      } catch (err) {
        this.server.forceShutdown();
        throw err;
      }
    }
  }

  /** Deregisters (lease revoked: the key goes at once), then shuts down, forcing after `graceMs`. */
  async stop(graceMs = 1000): Promise<void> {
    try {
      await this.#publisher?.stop();
    } finally {
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          this.server.forceShutdown();
          resolve();
        }, graceMs);
        this.server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
    }
  }
}
