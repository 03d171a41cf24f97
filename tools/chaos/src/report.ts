import type { Chaos } from './schedule.ts';

export interface ChaosResult {
  ok: boolean;
  transfers: number;
  gids: string[];
  succeeded: number;
  failed: number;
  notStarted: number;
  /** succeeded / failed per mode, from dtm. */
  byMode: Record<string, { succeed: number; failed: number }>;
  /** Transfers of more money than exists (none may succeed). */
  meantToFail: number;
  accounts: string[];
  lost: number;
  doubled: number;
  unguarded: number;
  unfinished: number;
  negative: number;
  conserved: boolean;
  totalBefore: string;
  totalAfter: string;
  kills: number;
  dtmRestarts: number;
  etcdOutageS: number;
  /** Transfers started while each kind of fault was in effect (trans down, a dtm down, an etcd member down). */
  during: Record<Chaos, number>;
  /** Seconds the settle took (bounded by 3 min, or 100 ms per transfer when longer). */
  settleS: number;
  /** Transactions dtm's resetCronTime made due again; null with --no-reset-cron. */
  cronResets: number | null;
  dtmHttp: string;
  dtmInstances: string[];
  etcdMembers: string[];
  durationS: number;
  /** Where the stack's logs (and, with --keep, its pids.json) are; the bank's data source. */
  stackDir: string;
  bank: string;
  violations: string[];
}

/** The summary printed at the end of a run. */
export function table(r: ChaosResult): string {
  const rows: [string, string][] = [
    ['transfers', String(r.transfers)],
    ['succeeded / failed / never reached dtm', `${r.succeeded} / ${r.failed} / ${r.notStarted}`],
    ...Object.entries(r.byMode).map(([mode, c]): [string, string] => [
      `  ${mode}: succeeded / failed`,
      `${c.succeed} / ${c.failed}`,
    ]),
    ['meant to fail (more than exists)', String(r.meantToFail)],
    ['trans SIGKILLs', String(r.kills)],
    ['dtm restarts', String(r.dtmRestarts)],
    ['etcd member outage (s)', String(r.etcdOutageS)],
    ['lost', String(r.lost)],
    ['doubled', String(r.doubled)],
    ['unguarded (no barrier row)', String(r.unguarded)],
    ['unfinished in dtm', String(r.unfinished)],
    ['negative balances', String(r.negative)],
    ['Σ balances conserved', `${r.conserved} (${r.totalBefore} → ${r.totalAfter})`],
    ['settle (s)', String(r.settleS)],
    ['cron resets (dtm resetCronTime)', r.cronResets === null ? 'off (--no-reset-cron)' : String(r.cronResets)],
    ['duration (s)', String(r.durationS)],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n');
}
