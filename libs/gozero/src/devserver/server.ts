import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getHeapSnapshot } from 'node:v8';
import type { DevServerConf, PrometheusConf } from '../conf/observability.ts';
import { enableMetrics, registry } from '../metrics/rpc.ts';

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => void | Promise<void>;

/** go-zero's pprof `profile` default and our cap: a CPU profile request waits this long at most. */
const PROFILE_DEFAULT_S = 30;
const PROFILE_MAX_S = 120;

async function metrics(_req: IncomingMessage, res: ServerResponse): Promise<void> {
  const r = registry();
  const body = await r.metrics();
  res.writeHead(200, { 'Content-Type': r.contentType }).end(body);
}

/** `/debug/pprof/heap`: a V8 heap snapshot (open it in Chrome DevTools' Memory tab). */
function heap(_req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(200, {
    'Content-Type': 'application/octet-stream',
    'Content-Disposition': 'attachment; filename="heap.heapsnapshot"',
  });
  getHeapSnapshot().pipe(res);
}

/** `/debug/pprof/profile?seconds=N`: a V8 CPU profile of the next N s (a `.cpuprofile`, as Chrome DevTools reads). */
async function profile(_req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const raw = url.searchParams.get('seconds');
  const seconds = raw === null ? PROFILE_DEFAULT_S : Number(raw);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > PROFILE_MAX_S) {
    res.writeHead(400).end(`seconds must be a number in (0, ${PROFILE_MAX_S}], got ${raw}\n`);
    return;
  }
  const { Session } = process.getBuiltinModule('node:inspector/promises');
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const { profile: p } = await session.post('Profiler.stop');
    res
      .writeHead(200, {
        'Content-Type': 'application/json',
        'Content-Disposition': 'attachment; filename="cpu.cpuprofile"',
      })
      .end(JSON.stringify(p));
  } finally {
    session.disconnect();
  }
}

export class DevServerError extends Error {
  override name = 'DevServerError';
}

/** An HTTP listener with fixed routes; `key` names the config section in errors (DevServer, Prometheus). */
export class RouteServer {
  readonly #routes = new Map<string, Handler>();
  readonly #key: string;
  readonly #host: string;
  readonly #port: number;
  #server: Server | undefined;

  constructor(key: string, host: string, port: number) {
    this.#key = key;
    this.#host = host;
    this.#port = port;
  }

  protected route(path: string, h: Handler): void {
    this.#routes.set(path, h);
  }

  get routes(): string[] {
    return [...this.#routes.keys()];
  }

  /** The bound port (the configured one, or the one picked for Port 0). */
  get port(): number {
    return (this.#server?.address() as AddressInfo | null)?.port ?? this.#port;
  }

  /** Listens; a taken port or an address that cannot be bound rejects naming `<key>.Port` / `<key>.Host`. */
  async start(): Promise<void> {
    // Not a static import: an ES module importing node:http makes Node build its whole namespace, which loads the
    // bundled undici (fetch, WebSocket) — 13 MiB of RSS in every service, DevServer or not.
    const { createServer } = process.getBuiltinModule('node:http');
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://devserver');
      const h = this.#routes.get(url.pathname);
      if (!h) {
        res.writeHead(404).end('404 page not found\n');
        return;
      }
      Promise.resolve(h(req, res, url)).catch((err: Error) => {
        if (!res.headersSent) res.writeHead(500);
        res.end(`${err.message}\n`);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => {
        const where = `${this.#host || '0.0.0.0'}:${this.#port}`;
        reject(
          err.code === 'EADDRINUSE'
            ? new DevServerError(
                `${this.#key}.Port ${this.#port}: the port is already in use (${where}); stop the other process or set another ${this.#key}.Port${this.#key === 'DevServer' ? ' (or DevServer.Enabled: false)' : ''}`,
                { cause: err },
              )
            : new DevServerError(`${this.#key}.Host "${this.#host}": cannot listen on ${where} (${err.message})`, {
                cause: err,
              }),
        );
      });
      server.listen({ host: this.#host || undefined, port: this.#port }, () => resolve());
    });
    this.#server = server;
  }

  async stop(): Promise<void> {
    const s = this.#server;
    this.#server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
}

/**
 * go-zero's DevServer (`internal/devserver`): `/` lists the routes, `HealthPath` answers `HealthResponse` once
 * `ready()` (503 before), `MetricsPath` serves the Prometheus registry (and turns metric recording on, as
 * go-zero's `prometheus.Enable()`), and with `EnablePprof` `/debug/pprof/heap` and `/debug/pprof/profile` give
 * V8's heap snapshot and CPU profile — Node's equivalents of Go's pprof.
 */
export class DevServer extends RouteServer {
  constructor(conf: DevServerConf, ready: () => boolean) {
    super('DevServer', conf.Host, conf.Port);
    this.route('/', (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(`${JSON.stringify(this.routes)}\n`);
    });
    this.route(conf.HealthPath, (_req, res) => {
      if (ready()) res.writeHead(200).end(conf.HealthResponse);
      else res.writeHead(503).end('Service Unavailable\n');
    });
    if (conf.EnableMetrics) {
      enableMetrics();
      this.route(conf.MetricsPath, metrics);
    }
    if (conf.EnablePprof) {
      this.route('/debug/pprof/heap', heap);
      this.route('/debug/pprof/profile', profile);
    }
  }
}

/** go-zero's `prometheus.StartAgent`: when `Host` is set, `Host:Port` serves the registry at `Path`. */
export class PrometheusAgent extends RouteServer {
  constructor(conf: PrometheusConf) {
    super('Prometheus', conf.Host, conf.Port);
    enableMetrics();
    this.route(conf.Path, metrics);
  }
}
