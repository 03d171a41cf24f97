// The chaos suite: random transfers in every mode through a dtm cluster (3 etcd members, 2 dtm instances on one
// MySQL store) while trans is SIGKILLed and restarted, dtm instances are killed and restarted, and an etcd member
// is down for longer than the lease TTL; then, bounded, it waits until dtm has finished every transaction and
// checks from the database and dtm — never from its own memory — that no money was lost, doubled or overdrawn.
//   npm run chaos -- --transfers 300 --concurrency 8 --kills 3 --dtm-restarts 1 --etcd-outage 12 --out .cache/chaos/chaos.json
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { closeConnections } from '@dtm-gozero/dtmgrpc';
import { closeEtcdClients } from '@dtm-gozero/gozero';
import { type Bank, openBank, parseMysqlDataSource } from '@dtm-gozero/trans/bank';
import { TRANSFER_MODES, type Transfer, transfer } from '../apps/app/src/bank.ts';
import { stopAppWorkflows } from '../apps/app/src/workflow.ts';
import { freePorts } from '../libs/testkit/src/ports.ts';

/** go-zero's lease TTL of a registration (discov.TimeToLive), in seconds. */
const TIME_TO_LIVE_S = 10;

import { Cluster, type ClusterPorts, startOwnMariadb } from './cluster.ts';

const USAGE =
  'usage: npm run chaos -- [--transfers N] [--concurrency C] [--kills K] [--dtm-restarts R] [--etcd-outage S] [--no-reset-cron] [--out FILE] [--keep]';

/** The accounts transfers move money between, and what each starts with (cents). */
// Enough accounts that concurrent transfers rarely wait on each other's row locks (an XA branch holds its rows from
// phase 1 until dtm's phase 2, which a trans kill delays).
const ACCOUNTS = Array.from({ length: 100 }, (_, i) => BigInt(1001 + i));
const START_BALANCE = 10_000n;
/** Ordinary amounts are 1..MAX_AMOUNT; one transfer in MEANT_TO_FAIL asks for more money than exists in all. */
const MAX_AMOUNT = 2000;
const MEANT_TO_FAIL = 10;
/** Bounds: how long dtm gets to finish everything after the last transfer, and each transfer's own deadline. dtm
 * recovers one transaction at a time per instance (a few to a few dozen a second on a busy 2-core machine), and a
 * 10,000-transfer run ends with thousands waiting for it: 3 min, or 100 ms per transfer when that is longer. */
const SETTLE_MS_MIN = 180_000;
const SETTLE_MS_PER_TRANSFER = 100;
const TRANSFER_MS = 20_000;
/** dtm's RetryInterval here (its smallest allowed value), in seconds. */
const RETRY_INTERVAL_S = 10;
/** How often the settle asks dtm to make long-postponed retries due again (see resetCronTime). */
const RESET_EVERY_MS = 15_000;
/** One resetCronTime call moves at most this many transactions, and one round makes at most this many calls. */
const RESET_LIMIT = 500;
const RESET_CALLS_MAX = 40;

interface Options {
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

/** One line that redraws itself: done/total, the chaos so far (`force`: a fault began or ended, print it anyway). */
function progress(done: number, total: number, note: string, force = false): void {
  const width = 30;
  const filled = Math.round((done / total) * width);
  const bar = `${'#'.repeat(filled)}${'-'.repeat(width - filled)}`;
  const line = `[${bar}] ${done}/${total} ${note}`;
  if (process.stderr.isTTY) process.stderr.write(`\r${line}\x1b[K`);
  else if (force || done === total || done % Math.max(1, Math.floor(total / 10)) === 0)
    process.stderr.write(`${line}\n`);
}

export type Chaos = 'kill' | 'dtm' | 'etcd';

/**
 * When each fault fires, in ms after the first transfer, and the span the transfers are paced over. The faults fire
 * by time, not by transfer count: transfers that fail fast under a fault (a TCC try while trans is down) would
 * otherwise all be through before the next fault, and the faults would hit an idle system. The transfers are paced
 * to last at least `spanMs` (transfer i starts no earlier than i/n of it), and every fault, the etcd outage's whole
 * length included, lies within the span: so every fault happens while transfers run.
 */
export function chaosPlan(o: Pick<Options, 'kills' | 'dtmRestarts' | 'etcdOutage'>): {
  spanMs: number;
  events: { atMs: number; what: Chaos }[];
} {
  const spanMs = Math.max(20_000, 1.5 * o.etcdOutage * 1000 + 5000, o.kills * 3000, o.dtmRestarts * 5000);
  const spread = (n: number, offsetMs: number, what: Chaos): { atMs: number; what: Chaos }[] =>
    Array.from({ length: n }, (_, i) => ({ atMs: Math.floor(((i + 1) * spanMs) / (n + 1)) + offsetMs, what }));
  const events = [
    ...spread(o.kills, 0, 'kill'),
    ...spread(o.dtmRestarts, 500, 'dtm'),
    ...(o.etcdOutage > 0 ? [{ atMs: Math.floor(spanMs / 3), what: 'etcd' as const }] : []),
  ].sort((a, b) => a.atMs - b.atMs);
  return { spanMs, events };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

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

type Status = 'succeed' | 'failed' | 'prepared' | 'submitted' | 'aborting' | 'none';

/** dtm's stored status of a gid (`none`: dtm never stored it), asking each instance until one answers. */
async function dtmStatus(https: string[], gid: string): Promise<Status | undefined> {
  const r = await firstAnswer(https, `/api/dtmsvr/query?gid=${encodeURIComponent(gid)}`, 3000);
  if (r === undefined) return undefined;
  return ((r as { transaction?: { status?: string } | null }).transaction?.status as Status | undefined) ?? 'none';
}

async function statuses(https: string[], gids: string[]): Promise<Map<string, Status | undefined>> {
  const out = new Map<string, Status | undefined>();
  let i = 0;
  const worker = async (): Promise<void> => {
    while (i < gids.length) {
      const g = gids[i++] as string;
      out.set(g, await dtmStatus(https, g));
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  return out;
}

/**
 * The gids whose dtm status is not final yet (succeed/failed never change again), and how many of them dtm holds as
 * unfinished: the others it never stored (a transfer that did not reach it) or no dtm answered for; they stay in
 * the set, as a late submit could still store them.
 */
async function notFinal(https: string[], gids: string[]): Promise<{ gids: string[]; unfinished: number }> {
  const st = await statuses(https, gids);
  const open = [...st].filter(([, s]) => s !== 'succeed' && s !== 'failed');
  return { gids: open.map(([g]) => g), unfinished: open.filter(([, s]) => s !== 'none').length };
}

/** dtm's statuses of a transaction that is not final yet, in the order a transaction can move through them. */
const OPEN_STATUSES = ['prepared', 'submitted', 'aborting'] as const;
/** Rows per page of dtm's /api/dtmsvr/all. */
const SCAN_PAGE = 1000;

/**
 * How many of this run's transactions dtm holds unfinished, from dtm's own list by status (/api/dtmsvr/all, paged):
 * a few requests however many transactions there are, where asking gid by gid costs one request each. Undefined when
 * no dtm instance answered. A transaction that changes status mid-scan can be missed, so a 0 here is confirmed gid by
 * gid before the settle ends.
 */
async function openInDtm(https: string[], gidPrefix: string, transfers: number): Promise<number | undefined> {
  let open = 0;
  for (const status of OPEN_STATUSES) {
    let position = '';
    for (let page = 0; page <= Math.ceil(transfers / SCAN_PAGE); page++) {
      const r = (await firstAnswer(
        https,
        `/api/dtmsvr/all?status=${status}&limit=${SCAN_PAGE}&position=${encodeURIComponent(position)}`,
      )) as { transactions?: { gid?: string }[] | null; next_position?: string } | undefined;
      if (r === undefined) return undefined;
      open += (r.transactions ?? []).filter((t) => t.gid?.startsWith(gidPrefix)).length;
      position = r.next_position ?? '';
      if (position === '') break;
    }
  }
  return open;
}

/**
 * dtm's own admin step after business downtime (GET /api/dtmsvr/resetCronTime, since dtm v1.14): every unfinished
 * transaction whose next retry is more than `aheadS` seconds away becomes due now. Each failed branch call doubles a
 * transaction's retry interval, so after a few trans kills many wait minutes although trans is long back; an operator
 * calls this once the outage is over. One call moves at most `limit` rows and says whether more remain; this loops
 * (bounded) until none do. Returns how many it moved, or undefined when no dtm instance answered.
 */
async function resetCronTime(https: string[], aheadS: number): Promise<number | undefined> {
  let moved = 0;
  for (let call = 0; call < RESET_CALLS_MAX; call++) {
    const r = await firstAnswer(https, `/api/dtmsvr/resetCronTime?timeout=${aheadS}&limit=${RESET_LIMIT}`);
    if (r === undefined) return call === 0 ? undefined : moved;
    const { succeed_count: n, has_remaining: more } = r as { succeed_count?: number; has_remaining?: boolean };
    if (typeof n !== 'number') throw new Error(`dtm's resetCronTime answered ${JSON.stringify(r)}`);
    moved += n;
    if (!more) break;
  }
  return moved;
}

/** The JSON answer of the first dtm instance that gives one (each asked within `ms`), or undefined. */
async function firstAnswer(https: string[], path: string, ms = 10_000): Promise<unknown> {
  for (const h of https) {
    try {
      const res = await fetch(`${h}${path}`, { signal: AbortSignal.timeout(ms) });
      if (res.ok) return await res.json();
    } catch {
      // that instance is down or slow: ask the other
    }
  }
  return undefined;
}

interface Settled {
  /** Seconds from the end of the chaos until dtm held no unfinished transaction (or the bound ran out). */
  settleS: number;
  /** Transactions dtm's resetCronTime made due again, summed over every call; undefined with --no-reset-cron. */
  cronResets: number | undefined;
}

/**
 * Bounded wait until dtm holds no unfinished transaction of this run. Each pass counts them from dtm's list by status
 * (openInDtm); only when that says none does it ask gid by gid, and then only about the gids not yet seen final
 * (succeed/failed never change). Asking about every gid every pass loaded dtm and its store, which are busy with
 * the very recovery being waited for.
 */
async function settle(https: string[], gids: string[], gidPrefix: string, o: Options): Promise<Settled> {
  const started = Date.now();
  const end = started + Math.max(SETTLE_MS_MIN, o.transfers * SETTLE_MS_PER_TRANSFER);
  let cronResets: number | undefined = o.resetCron ? 0 : undefined;
  let nextReset = started;
  let open = gids;
  while (Date.now() < end) {
    if (o.resetCron && Date.now() >= nextReset) {
      // Retries due within one RetryInterval are left alone: among them are the ones a cron pass is working on now.
      const n = await resetCronTime(https, RETRY_INTERVAL_S);
      process.stderr.write(
        `chaos: dtm resetCronTime made ${n ?? '? (no dtm answered)'} postponed transactions due now\n`,
      );
      cronResets = (cronResets ?? 0) + (n ?? 0);
      nextReset = Date.now() + RESET_EVERY_MS;
    }
    let unfinished = await openInDtm(https, gidPrefix, o.transfers);
    if (unfinished === 0) {
      const left = await notFinal(https, open);
      open = left.gids;
      unfinished = left.unfinished;
    }
    process.stderr.write(`chaos: settling, ${unfinished ?? '? (no dtm answered)'} transactions unfinished in dtm\n`);
    if (unfinished === 0) break;
    await sleep(2000);
  }
  return { settleS: Math.round((Date.now() - started) / 1000), cronResets };
}

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

export interface Evidence {
  plans: Map<string, Transfer>;
  /** dtm's status of each gid (`none`: never stored; undefined: no dtm answered). */
  statuses: Map<string, Status | undefined>;
  ledger: Awaited<ReturnType<Bank['ledger']>>;
  barrier: Awaited<ReturnType<Bank['barrierRows']>>;
  balances: Map<bigint, bigint>;
  accounts: readonly bigint[];
  totalBefore: bigint;
}

/** The verdict from what the database and dtm hold (pure: unit-tested on crafted evidence). */
export function judge(e: Evidence) {
  const { plans, statuses: st, ledger, barrier, balances } = e;
  const guarded = new Set(barrier.map((b) => `${b.gid}\u0000${b.branchId}\u0000${b.op}`));
  const byGid = new Map<string, typeof ledger>();
  for (const r of ledger) byGid.set(r.gid, [...(byGid.get(r.gid) ?? []), r]);
  const violations: string[] = [];
  let lost = 0;
  let doubled = 0;
  let unguarded = 0;
  let unfinished = 0;
  let succeeded = 0;
  let failed = 0;
  let notStarted = 0;
  const byMode: Record<string, { succeed: number; failed: number }> = {};
  let meantToFail = 0;
  for (const [gid, t] of plans) {
    const s = st.get(gid);
    const rows = byGid.get(gid) ?? [];
    const m = byMode[t.mode] ?? { succeed: 0, failed: 0 };
    byMode[t.mode] = m;
    if (s === 'succeed' || s === 'failed') m[s]++;
    if (t.amount > e.totalBefore) {
      // more than all the money there is: it can only fail
      meantToFail++;
      if (s === 'succeed') violations.push(`${gid}: asked for ${t.amount}, more than exists, and succeeded`);
    }
    if (s === 'succeed') succeeded++;
    else if (s === 'failed') failed++;
    else if (s === 'none') notStarted++;
    else {
      unfinished++;
      violations.push(`${gid}: dtm status ${s ?? 'unknown (no dtm answered)'}`);
      continue;
    }
    // every balance change went through the barrier: its (gid, branch, op) row exists
    for (const r of rows) {
      const op = r.op === 'commit' ? 'action' : r.op; // XA: the ledger row is written in phase 1 (op action)
      if (!guarded.has(`${gid}\u0000${r.branchId}\u0000${op}`)) {
        unguarded++;
        violations.push(`${gid}: ledger row ${r.branchId}/${r.op} has no barrier row`);
      }
    }
    const net = new Map<bigint, bigint>();
    for (const r of rows) net.set(r.user, (net.get(r.user) ?? 0n) + r.delta);
    const want = new Map<bigint, bigint>(
      s === 'succeed'
        ? [
            [t.from, -t.amount],
            [t.to, t.amount],
          ]
        : [],
    );
    const users = new Set([...net.keys(), ...want.keys()]);
    const same = [...users].every((u) => (net.get(u) ?? 0n) === (want.get(u) ?? 0n));
    // A debit or credit applied twice shows as a second row of the same sign for one user and branch op.
    const perOp = new Map<string, number>();
    for (const r of rows) {
      const k = `${r.user}\u0000${r.branchId}\u0000${r.op}`;
      perOp.set(k, (perOp.get(k) ?? 0) + 1);
    }
    const repeated = [...perOp.values()].some((n) => n > 1);
    if (same && !repeated) continue;
    const sum = [...net.values()].reduce((a, b) => a + b, 0n);
    const over = [...users].some((u) => {
      const a = net.get(u) ?? 0n;
      const w = want.get(u) ?? 0n;
      return (a < 0n ? -a : a) > (w < 0n ? -w : w);
    });
    if (repeated || sum > 0n || (sum === 0n && over)) doubled++;
    else lost++;
    violations.push(
      `${gid} (${t.mode} ${t.from}→${t.to} ${t.amount}, dtm ${s}): ledger ${JSON.stringify(rows.map((r) => `${r.user}:${r.delta}@${r.branchId}/${r.op}`))}`,
    );
  }
  let totalAfter = 0n;
  let negative = 0;
  for (const u of e.accounts) {
    const b = balances.get(u) ?? 0n;
    totalAfter += b;
    if (b < 0n) {
      negative++;
      violations.push(`account ${u} is at ${b}`);
    }
  }
  const conserved = totalAfter === e.totalBefore;
  if (!conserved) violations.push(`balances sum to ${totalAfter}, started at ${e.totalBefore}`);
  return {
    byMode,
    meantToFail,
    lost,
    doubled,
    unguarded,
    unfinished,
    negative,
    conserved,
    totalAfter,
    succeeded,
    failed,
    notStarted,
    violations,
    st,
  };
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
        `chaos: --keep: the stack keeps running (logs and pids.json in ${dir}); stop it with: node scripts/cluster.ts down --dir ${dir}\n` +
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

function table(r: ChaosResult): string {
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

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  // Made before the run, so that a path that cannot be written fails now, not after minutes of chaos.
  if (o.out) mkdirSync(dirname(resolve(o.out)), { recursive: true });
  const r = await runChaos(o);
  console.log(table(r));
  if (o.out) writeFileSync(o.out, `${JSON.stringify(r, null, 2)}\n`);
  if (!r.ok) {
    console.error(`chaos: VIOLATIONS\n${r.violations.join('\n')}`);
    process.exitCode = 1;
  } else console.log('chaos: no money lost, doubled or overdrawn; every transaction final in dtm');
}

if (import.meta.main) {
  main()
    .catch((err: unknown) => {
      console.error(`chaos: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = 2;
    })
    .finally(() => {
      void stopAppWorkflows(); // the callback server of the workflow transfers
      closeConnections();
      closeEtcdClients();
    });
}
