import { parseArgs } from 'node:util';

/** go-zero's lease TTL of a registration (discov.TimeToLive), in seconds. */
export const TIME_TO_LIVE_S = 10;

export const USAGE =
  'usage: npm run chaos -- [--transfers N] [--concurrency C] [--kills K] [--dtm-restarts R] [--etcd-outage S] [--no-reset-cron] [--out FILE] [--keep]';

export interface Options {
  transfers: number;
  concurrency: number;
  kills: number;
  dtmRestarts: number;
  etcdOutage: number;
  /** Call dtm's resetCronTime once the chaos is over and during the settle (`--no-reset-cron` measures without). */
  resetCron: boolean;
  out: string | undefined;
  keep: boolean;
}

export function parseOptions(argv: string[]): Options {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    allowNegative: true,
    options: {
      transfers: { type: 'string', default: '300' },
      concurrency: { type: 'string', default: '8' },
      kills: { type: 'string', default: '3' },
      'dtm-restarts': { type: 'string', default: '1' },
      'etcd-outage': { type: 'string', default: '12' },
      'reset-cron': { type: 'boolean', default: true },
      out: { type: 'string' },
      keep: { type: 'boolean', default: false },
    },
  });
  if (positionals.length > 0) throw new Error(`unexpected argument "${positionals[0]}"; ${USAGE}`);
  const int = (flag: string, min: number, max: number): number => {
    const s = values[flag as 'transfers'] as string;
    if (!/^[0-9]+$/.test(s) || Number(s) < min || Number(s) > max) {
      throw new Error(`--${flag} ${JSON.stringify(s)}: pass a whole number from ${min} to ${max}; ${USAGE}`);
    }
    return Number(s);
  };
  const outage = int('etcd-outage', 0, 120);
  if (outage > 0 && outage <= TIME_TO_LIVE_S) {
    throw new Error(
      `--etcd-outage ${outage}: an outage must outlast the ${TIME_TO_LIVE_S} s lease TTL to test anything; pass ${TIME_TO_LIVE_S + 2} or more (or 0 for none)`,
    );
  }
  return {
    transfers: int('transfers', 1, 100_000),
    concurrency: int('concurrency', 1, 64),
    kills: int('kills', 0, 200),
    dtmRestarts: int('dtm-restarts', 0, 50),
    etcdOutage: outage,
    resetCron: values['reset-cron'] as boolean,
    out: values.out,
    keep: values.keep as boolean,
  };
}
