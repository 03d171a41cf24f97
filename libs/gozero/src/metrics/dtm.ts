import type { Counter, Histogram } from 'prom-client';
import { metricsEnabled, withSeries } from './rpc.ts';

// Our own (dtm's Go client has none): what a dashboard of a dtm client wants next to go-zero's rpc_* series.
// Made with the registry (metrics/rpc.ts), so prom-client loads only when metrics are served.
let series:
  | { begun: Counter<'type'>; finished: Counter<'type' | 'outcome'>; duration: Histogram<'type' | 'outcome'> }
  | undefined;

withSeries(({ Counter, Histogram }, registry) => {
  const registers = [registry];
  series = {
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
    duration: new Histogram({
      name: 'dtm_client_trans_duration_ms',
      help: 'dtm global transactions: ms from the first call to dtm to the Submit or Abort answer.',
      labelNames: ['type', 'outcome'],
      buckets: [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000],
      registers,
    }),
  };
});

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
    if (this.#start !== undefined || !metricsEnabled() || !series) return;
    this.#start = performance.now();
    series.begun.inc({ type: this.#type });
  }

  end(outcome: TransOutcome): void {
    if (this.#start === undefined || this.#ended || !series) return;
    this.#ended = true;
    series.finished.inc({ type: this.#type, outcome });
    series.duration.observe({ type: this.#type, outcome }, performance.now() - this.#start);
  }
}
