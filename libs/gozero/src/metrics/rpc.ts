// The metrics registry, its on-switch, and every series recorded in it: go-zero's rpc_* and the dtm client's.
import type { Counter, Histogram, Registry } from 'prom-client';
import { requireOptional } from '../internal/optional.ts';

type PromClient = typeof import('prom-client');

interface Series {
  registry: Registry;
  serverDuration: Histogram<'method'>;
  serverCodes: Counter<'method' | 'code'>;
  clientDuration: Histogram<'method'>;
  clientCodes: Counter<'method' | 'code'>;
  begun: Counter<'type'>;
  finished: Counter<'type' | 'outcome'>;
  transDuration: Histogram<'type' | 'outcome'>;
}

// go-zero's buckets for both (zrpc/internal/{server,client}interceptors/prometheusinterceptor.go, v1.10).
const BUCKETS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2000, 5000];

// prom-client and the series are made by the first enableMetrics() or metricsRegistry() call, never before: a
// service with no DevServer metrics and no Prometheus agent does not load prom-client.
let made: Series | undefined;
let enabled = false;

function series(): Series {
  if (made) return made;
  const { Counter, Histogram, Registry } = requireOptional('prom-client') as PromClient;
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
    // dtm client series, our own (dtm's Go client has none): what a dashboard of a dtm client wants next to
    // go-zero's rpc_* series. Here beside them, so a dtm call checks one on-switch in one module.
    begun: new Counter({
      name: 'dtm_client_trans_begun_total',
      help: 'dtm global transactions begun by this client (first Prepare or Submit sent).',
      labelNames: ['type'],
      registers,
    }),
    finished: new Counter({
      name: 'dtm_client_trans_finished_total',
      help: 'dtm global transactions this client finished, by outcome (submitted, aborted, failed).',
      labelNames: ['type', 'outcome'],
      registers,
    }),
    transDuration: new Histogram({
      name: 'dtm_client_trans_duration_ms',
      help: 'dtm global transactions: ms from the first call to dtm to the Submit or Abort answer.',
      labelNames: ['type', 'outcome'],
      buckets: [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000],
      registers,
    }),
  };
  return made;
}

/**
 * The registry the DevServer and the Prometheus agent serve (go-zero serves the default Go registry). Its first
 * call loads prom-client; recording still waits for enableMetrics().
 */
export function registry(): Registry {
  return series().registry;
}

/** go-zero's `prometheus.Enable()`: metrics are recorded only once a DevServer or a Prometheus agent serves them. */
export function enableMetrics(): void {
  if (enabled) return;
  const { registry } = series();
  enabled = true;
  // The runtime's own series (process_*, nodejs_*), as Go's client serves go_* and process_*.
  (requireOptional('prom-client') as PromClient).collectDefaultMetrics({ register: registry });
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

export type TransOutcome = 'submitted' | 'aborted' | 'failed';

/** Meters one transaction: `begin()` at its first call to dtm, `end()` once (later calls are ignored). */
export class TransMeter {
  readonly #type: string;
  #start: number | undefined;
  #ended = false;

  constructor(type: string) {
    this.#type = type;
  }

  begin(): void {
    if (this.#start !== undefined || !enabled || !made) return;
    this.#start = performance.now();
    made.begun.inc({ type: this.#type });
  }

  end(outcome: TransOutcome): void {
    if (this.#start === undefined || this.#ended || !made) return;
    this.#ended = true;
    made.finished.inc({ type: this.#type, outcome });
    made.transDuration.observe({ type: this.#type, outcome }, performance.now() - this.#start);
  }
}
