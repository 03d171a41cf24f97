import { Counter, Histogram } from 'prom-client';
import { metricsEnabled, registry } from './rpc.ts';

// Our own (dtm's Go client has none): what a dashboard of a dtm client wants next to go-zero's rpc_* series.
const begun = new Counter({
  name: 'dtm_client_trans_begun_total',
  help: 'dtm global transactions begun by this client (first Prepare or Submit sent).',
  labelNames: ['type'],
  registers: [registry],
});
const finished = new Counter({
  name: 'dtm_client_trans_finished_total',
  help: 'dtm global transactions this client finished, by outcome (submitted, aborted, failed).',
  labelNames: ['type', 'outcome'],
  registers: [registry],
});
const duration = new Histogram({
  name: 'dtm_client_trans_duration_ms',
  help: 'dtm global transactions: ms from the first call to dtm to the Submit or Abort answer.',
  labelNames: ['type', 'outcome'],
  buckets: [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000],
  registers: [registry],
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
    if (this.#start !== undefined || !metricsEnabled()) return;
    this.#start = performance.now();
    begun.inc({ type: this.#type });
  }

  end(outcome: TransOutcome): void {
    if (this.#start === undefined || this.#ended) return;
    this.#ended = true;
    finished.inc({ type: this.#type, outcome });
    duration.observe({ type: this.#type, outcome }, performance.now() - this.#start);
  }
}
