import type { Counter, Histogram, Registry } from 'prom-client';
import { requireOptional } from '../internal/optional.ts';

type PromClient = typeof import('prom-client');

interface RpcMetrics {
  registry: Registry;
  serverDuration: Histogram<'method'>;
  serverCodes: Counter<'method' | 'code'>;
  clientDuration: Histogram<'method'>;
  clientCodes: Counter<'method' | 'code'>;
}

// go-zero's buckets for both (zrpc/internal/{server,client}interceptors/prometheusinterceptor.go, v1.10).
const BUCKETS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2000, 5000];

// prom-client and the series are made by the first enableMetrics() or metricsRegistry() call, never before:
// a service with no DevServer metrics and no Prometheus agent does not load prom-client.
let made: RpcMetrics | undefined;
let enabled = false;
const seriesMakers: ((prom: PromClient, registry: Registry) => void)[] = [];

/** Adds series to the registry when it is made (at once if it already is), as a module-level `new Counter` would. */
export function withSeries(make: (prom: PromClient, registry: Registry) => void): void {
  seriesMakers.push(make);
  if (made) make(promClient(), made.registry);
}

/** prom-client, loaded on first use. */
function promClient(): PromClient {
  return requireOptional('prom-client') as PromClient;
}

function metrics(): RpcMetrics {
  if (made) return made;
  const { Counter, Histogram, Registry } = promClient();
  const registry = new Registry();
  const registers = [registry];
  made = {
    registry,
    serverDuration: new Histogram({
      name: 'rpc_server_requests_duration_ms',
      help: 'rpc server requests duration(ms).',
      labelNames: ['method'],
      buckets: BUCKETS,
      registers,
    }),
    serverCodes: new Counter({
      name: 'rpc_server_requests_code_total',
      help: 'rpc server requests code count.',
      labelNames: ['method', 'code'],
      registers,
    }),
    clientDuration: new Histogram({
      name: 'rpc_client_requests_duration_ms',
      help: 'rpc client requests duration(ms).',
      labelNames: ['method'],
      buckets: BUCKETS,
      registers,
    }),
    clientCodes: new Counter({
      name: 'rpc_client_requests_code_total',
      help: 'rpc client requests code count.',
      labelNames: ['method', 'code'],
      registers,
    }),
  };
  for (const make of seriesMakers) make(promClient(), registry);
  return made;
}

/**
 * The registry the DevServer and the Prometheus agent serve (go-zero serves the default Go registry). Its first
 * call loads prom-client; recording still waits for enableMetrics().
 */
export function registry(): Registry {
  return metrics().registry;
}

/** go-zero's `prometheus.Enable()`: metrics are recorded only once a DevServer or a Prometheus agent serves them. */
export function enableMetrics(): void {
  if (enabled) return;
  const { registry } = metrics();
  enabled = true;
  // The runtime's own series (process_*, nodejs_*), as Go's client serves go_* and process_*.
  promClient().collectDefaultMetrics({ register: registry });
}

export function metricsEnabled(): boolean {
  return enabled;
}

/**
 * One finished call, as go-zero's Prometheus interceptors record it: whole milliseconds under the full method
 * (`/pkg.Svc/Rpc`), the gRPC code as its number (`"0"`, `"10"`).
 */
export function observeRpc(side: 'server' | 'client', method: string, ms: number, code: number): void {
  if (!enabled || !made) return;
  const [duration, codes] =
    side === 'server' ? [made.serverDuration, made.serverCodes] : [made.clientDuration, made.clientCodes];
  duration.observe({ method }, Math.floor(ms));
  codes.inc({ method, code: String(code) });
}
