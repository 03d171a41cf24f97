import type { Server } from '@grpc/grpc-js';
import type { RpcServerConf } from '../conf/config.ts';
import { agentRunning, startAgent, stopAgent } from '../trace/agent.ts';
import { observeServer } from '../trace/interceptors.ts';
import { DevServer, PrometheusAgent } from './server.ts';

/**
 * What go-zero's `ServiceConf.SetUp` and server interceptors do for a server's observability: the Telemetry agent
 * (at construction, as `MustNewServer`), the tracing/Prometheus interceptors (per `Middlewares`), and at `start()`
 * the Prometheus agent and the DevServer — before the gRPC port binds, so a taken port leaves nothing running.
 */
export class ServiceObservers {
  readonly devServer: DevServer | undefined;
  readonly prometheus: PrometheusAgent | undefined;
  readonly #ownsAgent: boolean;

  constructor(
    conf: Pick<RpcServerConf, 'Telemetry' | 'Prometheus' | 'DevServer' | 'Middlewares'>,
    server: Server,
    ready: () => boolean,
  ) {
    const running = agentRunning();
    if (conf.Telemetry) startAgent(conf.Telemetry);
    this.#ownsAgent = !running && agentRunning();
    observeServer(server, conf.Middlewares ?? {});
    if (conf.Prometheus?.Host) this.prometheus = new PrometheusAgent(conf.Prometheus);
    if (conf.DevServer?.Enabled) this.devServer = new DevServer(conf.DevServer, ready);
  }

  async start(): Promise<void> {
    await this.prometheus?.start();
    try {
      await this.devServer?.start();
    } catch (err) {
      await this.prometheus?.stop();
      throw err;
    }
  }

  /** Stops the listeners and, when this server started it, flushes and stops the Telemetry agent (bounded). */
  async stop(): Promise<void> {
    await Promise.all([this.prometheus?.stop(), this.devServer?.stop()]);
    if (this.#ownsAgent) await stopAgent();
  }
}
