// One chaos run: a cluster of its own, the planned transfers paced over a span while the faults fire, the settle,
// and the verdict from the database and dtm.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TRANSFER_MODES, type Transfer, transfer } from '@dtm-gozero/app/transfer';
import { type Bank, openBank, parseMysqlDataSource } from '@dtm-gozero/bank';
import { freePorts } from '@dtm-gozero/testkit';
import { Cluster, type ClusterPorts } from './cluster.ts';
import { statuses } from './dtm-api.ts';
import { startOwnMariadb } from './mariadb.ts';
import type { Options } from './options.ts';
import { progress } from './progress.ts';
import type { ChaosResult } from './report.ts';
import { type Chaos, chaosPlan } from './schedule.ts';
import { RETRY_INTERVAL_S, settle, sleep } from './settle.ts';
import { judge } from './verdict.ts';

/** The accounts transfers move money between, and what each starts with (cents). */
// Enough accounts that concurrent transfers rarely wait on each other's row locks (an XA branch holds its rows from
// phase 1 until dtm's phase 2, which a trans kill delays).
const ACCOUNTS = Array.from({ length: 100 }, (_, i) => BigInt(1001 + i));
const START_BALANCE = 10_000n;
/** Ordinary amounts are 1..MAX_AMOUNT; one transfer in MEANT_TO_FAIL asks for more money than exists in all. */
const MAX_AMOUNT = 2000;
const MEANT_TO_FAIL = 10;
/** Each transfer's own deadline. */
const TRANSFER_MS = 20_000;

/** Races `p` against a deadline (the transfer's outcome is read from dtm afterwards either way). */
function within<T>(p: Promise<T>, ms: number): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      t = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(t));
}

/** Checks every gid against the ledger, the barrier table and dtm; balances against their starting sum. */
async function verify(bank: Bank, https: string[], plans: Map<string, Transfer>, totalBefore: bigint) {
  const gids = [...plans.keys()];
  return judge({
    plans,
    statuses: await statuses(https, gids),
    ledger: await bank.ledger(gids),
    barrier: await bank.barrierRows(gids),
    balances: await bank.balances(),
    accounts: ACCOUNTS,
    totalBefore,
  });
}

export async function runChaos(o: Options): Promise<ChaosResult> {
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'dtm-gozero-chaos-'));
  const run = randomBytes(4).toString('hex');
  const [dbPort, transPort, ...p] = await freePorts(12);
  const ports: ClusterPorts = {
    etcd: [
      [p[0] as number, p[1] as number],
      [p[2] as number, p[3] as number],
      [p[4] as number, p[5] as number],
    ],
    dtm: [
      [p[6] as number, p[7] as number],
      [p[8] as number, p[9] as number],
    ],
    trans: transPort as number,
  };
  process.stderr.write(`chaos: starting MariaDB, 3 etcd members, 2 dtm instances and trans (logs in ${dir})\n`);
  const db = await startOwnMariadb(dir, dbPort as number, o.keep);
  // dtm's shortest retry and timeout (10 s each), and a 1 s cron pass, so dtm converges soon after each kill.
  // No per-transfer RetryInterval/TimeoutToFail: a smaller RetryInterval would only lower the base that failed
  // retries double from (and slip past dtm's own floor of 10 s), a TimeoutToFail would abort slow transfers.
  const cluster = new Cluster({
    dir,
    ports,
    mysql: db.server,
    dtmDb: 'dtm',
    bankDb: `chaos_${run}`,
    detached: o.keep,
    dtmSettings: { TransCronInterval: 1, RetryInterval: RETRY_INTERVAL_S, TimeoutToFail: RETRY_INTERVAL_S },
  });
  const stopAll = async (): Promise<void> => {
    await cluster.stop().catch(() => undefined);
    await db.service.kill('SIGTERM').catch(() => undefined);
  };
  let bank: Bank | undefined;
  try {
    await cluster.start();
    bank = openBank(parseMysqlDataSource(cluster.bankDataSource, 'chaos'));
    await bank.migrate();
    await bank.setBalances(ACCOUNTS.map((u) => [u, START_BALANCE]));
    const totalBefore = START_BALANCE * BigInt(ACCOUNTS.length);
    const busiServer = `etcd://${cluster.etcdHosts.join(',')}/trans`;
    const ctx = { dtm: cluster.dtmTarget, busiServer, bank, options: { waitResult: false, callTimeoutMs: 5000 } };

    // The plan: every transfer and when each piece of chaos fires (after how many transfers were handed out).
    const plans = new Map<string, Transfer>();
    const gidPrefix = `chaos-${run}-`;
    const rand = (n: number): number => Math.floor(Math.random() * n);
    for (let i = 0; i < o.transfers; i++) {
      const from = ACCOUNTS[rand(ACCOUNTS.length)] as bigint;
      let to = ACCOUNTS[rand(ACCOUNTS.length)] as bigint;
      while (to === from) to = ACCOUNTS[rand(ACCOUNTS.length)] as bigint;
      plans.set(`${gidPrefix}${i}`, {
        from,
        to,
        amount: i % MEANT_TO_FAIL === MEANT_TO_FAIL - 1 ? totalBefore + 1n : BigInt(1 + rand(MAX_AMOUNT)),
        mode: TRANSFER_MODES[rand(TRANSFER_MODES.length)] as Transfer['mode'],
      });
    }
    const { spanMs, events } = chaosPlan(o);
    const done = { kills: 0, dtm: 0, etcd: 0 };
    // For the bar: faults fired so far, and the ones in effect now (with when the etcd outage ends).
    const fired: Record<Chaos, number> = { kill: 0, dtm: 0, etcd: 0 };
    const active: Record<Chaos, boolean> = { kill: false, dtm: false, etcd: false };
    /** Transfers started while each kind of fault was in effect: the proof that the chaos hit traffic. */
    const during: Record<Chaos, number> = { kill: 0, dtm: 0, etcd: 0 };
    let etcdBackAt = 0;
    let finished = 0;
    const note = (): string =>
      [
        `kills ${fired.kill}/${o.kills}${active.kill ? ' (trans down)' : ''}`,
        `dtm ${fired.dtm}/${o.dtmRestarts}${active.dtm ? ' (a dtm down)' : ''}`,
        `etcd ${fired.etcd}/${o.etcdOutage > 0 ? 1 : 0}${
          active.etcd ? ` (a member down, ${Math.max(0, Math.ceil((etcdBackAt - Date.now()) / 1000))} s left)` : ''
        }`,
      ].join(' ');
    const chains: Record<Chaos, Promise<void>> = {
      kill: Promise.resolve(),
      dtm: Promise.resolve(),
      etcd: Promise.resolve(),
    };
    const chaosErrors: string[] = [];
    /** Runs one fault: marks it in effect (and shows it) until the server is back. */
    const inEffect = async (what: Chaos, body: () => Promise<void>): Promise<void> => {
      fired[what]++;
      active[what] = true;
      progress(finished, o.transfers, note(), true);
      try {
        await body();
      } finally {
        active[what] = false;
        progress(finished, o.transfers, note(), true);
      }
    };
    const fire = (what: Chaos): Promise<void> => {
      if (what === 'kill') {
        return inEffect('kill', async () => {
          await cluster.trans.kill('SIGKILL');
          await sleep(300 + rand(700));
          await cluster.trans.start();
          done.kills++;
        });
      }
      if (what === 'dtm') {
        const d = cluster.dtm[done.dtm % cluster.dtm.length];
        return inEffect('dtm', async () => {
          await d?.kill('SIGKILL');
          await sleep(1000);
          await d?.start();
          done.dtm++;
        });
      }
      const e = cluster.etcd[2];
      return inEffect('etcd', async () => {
        etcdBackAt = Date.now() + o.etcdOutage * 1000;
        await e?.kill('SIGKILL'); // one member down, longer than the 10 s lease TTL; the other two keep quorum
        await sleep(o.etcdOutage * 1000);
        await e?.start();
        done.etcd++;
      });
    };

    // The faults, by time from the first transfer; one chain per kind: a kill never overlaps the restart before it
    // (two trans would race for the port).
    const t0 = Date.now();
    const scheduler = (async () => {
      for (const { atMs, what } of events) {
        await sleep(t0 + atMs - Date.now());
        chains[what] = chains[what].then(() =>
          fire(what).catch((err: unknown) => {
            chaosErrors.push(`${what}: ${(err as Error).message}`);
          }),
        );
      }
    })();

    // The transfers: C workers, paced so that transfer i starts no earlier than i/n of the span.
    let next = 0;
    const gids = [...plans.keys()];
    const worker = async (): Promise<void> => {
      while (next < gids.length) {
        const i = next++;
        const wait = t0 + (i * spanMs) / gids.length - Date.now();
        if (wait > 0) await sleep(wait);
        for (const k of Object.keys(active) as Chaos[]) if (active[k]) during[k]++;
        const gid = gids[i] as string;
        await within(transfer(ctx, gid, plans.get(gid) as Transfer), TRANSFER_MS).catch(() => undefined);
        finished++;
        progress(finished, gids.length, note());
      }
    };
    await Promise.all(Array.from({ length: o.concurrency }, worker));
    await scheduler;
    await Promise.all(Object.values(chains));
    if (process.stderr.isTTY) process.stderr.write('\n');
    if (chaosErrors.length > 0) throw new Error(`the chaos itself failed: ${chaosErrors.join('; ')}`);

    // All chaos is over and trans is back: wait (bounded) for dtm to finish, then judge every gid afresh.
    const https = cluster.dtmHttp;
    const settled = await settle(https, gids, gidPrefix, o);
    const v = await verify(bank, https, plans, totalBefore);
    const result: ChaosResult = {
      ok: v.violations.length === 0,
      transfers: o.transfers,
      gids,
      succeeded: v.succeeded,
      failed: v.failed,
      notStarted: v.notStarted,
      byMode: v.byMode,
      meantToFail: v.meantToFail,
      accounts: ACCOUNTS.map(String),
      lost: v.lost,
      doubled: v.doubled,
      unguarded: v.unguarded,
      unfinished: v.unfinished,
      negative: v.negative,
      conserved: v.conserved,
      totalBefore: String(totalBefore),
      totalAfter: String(v.totalAfter),
      kills: done.kills,
      dtmRestarts: done.dtm,
      etcdOutageS: done.etcd > 0 ? o.etcdOutage : 0,
      during,
      settleS: settled.settleS,
      cronResets: settled.cronResets ?? null,
      dtmHttp: https[0] as string,
      dtmInstances: https,
      etcdMembers: cluster.etcdHosts,
      durationS: Math.round((Date.now() - started) / 1000),
      stackDir: dir,
      bank: cluster.bankDataSource,
      violations: v.violations.slice(0, 50),
    };
    if (o.keep) {
      cluster.saveState([db.service]);
      process.stderr.write(
        `chaos: --keep: the stack keeps running (logs and pids.json in ${dir}); stop it with: npm run cluster:down -- --dir ${dir}\n` +
          `chaos: bank ${cluster.bankDataSource}; dtm ${https.join(', ')}\n`,
      );
    }
    return result;
  } finally {
    await bank?.close().catch(() => undefined);
    if (!o.keep) {
      await stopAll();
      rmSync(dir, { recursive: true, force: true });
    }
  }
}
