// Property: however dtm delivers a transfer's branch calls — repeated, reordered (cancel before try, compensate
// before action), concurrent duplicates, a crash between the barrier and COMMIT — with any amount (int64 edges
// included), the money ends all-or-nothing, nothing goes negative, the sum holds, and every second-phase call
// answers OK or a transient error. Against the real servers: trans's TransSvc (logic, bank model, barrier) on the
// suite's MariaDB and PostgreSQL, and the dtmgrpc Redis barrier on the suite's Redis.
import { randomUUID } from 'node:crypto';
import { testDatabases } from '@dtm-gozero/devkit/stack';
import { BranchBarrier, DtmFailure } from '@dtm-gozero/dtmgrpc';
import { AdjustInfo } from '@dtm-gozero/proto/trans';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { dtmMetadata, rawCall } from '../support/bank-fixture.ts';
import { type Backend, type Delivery, freshUsers, INT64_MAX, type Mode, play, scenarioArb } from './delivery.ts';
import { budgetMs, fuzzParams } from './params.ts';
import { BANK_DATABASES, type InProcessTrans, startOnSuiteDatabase } from './trans-server.ts';

const RUNS = 25;

const OPS: Record<Mode, Record<Delivery['phase'], string>> = {
  saga: { first: 'action', commit: '', rollback: 'compensate' },
  tcc: { first: 'try', commit: 'confirm', rollback: 'cancel' },
};
const METHODS: Record<Delivery['phase'], [string, string]> = {
  first: ['TransOut', 'TransIn'],
  commit: ['TransOutConfirm', 'TransInConfirm'],
  rollback: ['TransOutRevert', 'TransInRevert'],
};
const branchId = (b: 0 | 1) => (b === 0 ? '01' : '02');

/** trans answering each call over gRPC, exactly as dtm calls it (payload bytes and dtm's metadata). */
function transBackend(t: InProcessTrans): Backend {
  return {
    async deliver(mode, gid, d, amount, users) {
      const op = OPS[mode][d.phase];
      if (d.crash) t.crashNext(gid, branchId(d.branch), op);
      const body = AdjustInfo.encode({ Amount: amount, UserID: users[d.branch] }).finish();
      const r = await rawCall(t.port, METHODS[d.phase][d.branch], body, dtmMetadata(mode, gid, branchId(d.branch), op));
      return r.code === 0 ? 'ok' : r.code === 10 ? 'failure' : 'transient';
    },
    setBalances: (rows) => t.bank.setBalances(rows),
    async balances(users) {
      const all = await t.bank.balances();
      return users.map((u) => all.get(u) ?? -1n);
    },
  };
}

function checkRun(run: Awaited<ReturnType<typeof play>>): void {
  if (run.violations.length > 0) throw new Error(`${run.violations.join('; ')}\ncalls: ${run.log.join(' | ')}`);
}

async function property(
  backend: () => Backend,
  modes: Mode[],
  arbs: Omit<Parameters<typeof scenarioArb>[0], 'modes'>,
): Promise<void> {
  await fc.assert(
    fc.asyncProperty(scenarioArb({ ...arbs, modes }), async (s) => {
      const users = freshUsers();
      await backend().setBalances([
        [users[0], s.balances[0]],
        [users[1], s.balances[1]],
      ]);
      checkRun(await play(backend(), s, `prop-${randomUUID()}`, users));
    }),
    fuzzParams(RUNS),
  );
}

describe.each(BANK_DATABASES)('trans on %s: any delivery of a transfer keeps the money whole', (_name, section) => {
  let trans: InProcessTrans;
  beforeAll(async () => {
    trans = await startOnSuiteDatabase(section, 'prop_bank');
  }, 60_000);
  afterAll(() => trans?.stop());

  test(
    'saga and tcc, random deliveries',
    () => property(() => transBackend(trans), ['saga', 'tcc'], {}),
    budgetMs(RUNS, 120_000),
  );

  test('the crash is real: the crashed call answers a transient error, its retry moves the money once', async () => {
    const users = freshUsers();
    const backend = transBackend(trans);
    await backend.setBalances([
      [users[0], 50n],
      [users[1], 0n],
    ]);
    const s = { mode: 'tcc' as const, balances: [50n, 0n] as [bigint, bigint], amount: 20n, abortAfter: 2 as const };
    const run = await play(
      backend,
      { ...s, copies: [1, 1, 1, 1], crashes: [0, 3], noise: [] },
      `prop-${randomUUID()}`,
      users,
    );
    expect(run.log).toEqual([
      'first 0 (crash): transient',
      'first 0: ok',
      'first 1: ok',
      'commit 1 (crash): transient',
      'commit 1: ok',
      'commit 0: ok',
    ]);
    expect(run.violations).toEqual([]);
    expect(await backend.balances(users)).toEqual([30n, 20n]);
  });
});

describe('the Redis barrier: any delivery of a transfer keeps the money whole', () => {
  let redis: Redis;
  beforeAll(() => {
    redis = new Redis({ ...testDatabases().redis, maxRetriesPerRequest: 1 });
  });
  afterAll(() => redis?.disconnect());

  // What each op adds to its account through redisCheckAdjustAmount: TransOut takes, TransIn gives, on the try or
  // action; cancel/compensate gives back; confirm changes nothing (through the barrier all the same), so no
  // second-phase op can be refused for the amount.
  const effect = (branch: 0 | 1, phase: Delivery['phase'], a: bigint): bigint => {
    const sign = branch === 0 ? -1n : 1n;
    return phase === 'first' ? sign * a : phase === 'rollback' ? -sign * a : 0n;
  };
  const key = (u: bigint) => `prop-bank:${u}`;
  const backend = (): Backend => ({
    async deliver(mode, gid, d, amount, users) {
      const bb = new BranchBarrier(mode, gid, branchId(d.branch), OPS[mode][d.phase]);
      const delta = Number(effect(d.branch, d.phase, amount));
      try {
        await bb.redisCheckAdjustAmount(redis, key(users[d.branch]), delta, 600);
        // the script is atomic: a crash here loses only the answer, and dtm retries
        return d.crash ? 'transient' : 'ok';
      } catch (err) {
        return err instanceof DtmFailure ? 'failure' : 'transient';
      }
    },
    async setBalances(rows) {
      for (const [u, b] of rows) await redis.set(key(u), String(b), 'EX', 600);
    },
    async balances(users) {
      return Promise.all(users.map(async (u) => BigInt((await redis.get(key(u))) ?? '-1')));
    },
  });

  test(
    'saga and tcc, random deliveries (amounts up to 2^53-1: the barrier takes a safe integer)',
    () =>
      property(backend, ['saga', 'tcc'], {
        amount: fc.oneof(
          fc.constantFrom(1n, 30n, 2n ** 53n - 1n),
          fc.bigInt({ min: 1n, max: 2n ** 53n - 1n }),
          fc.bigInt({ min: 1n, max: 20_000n }),
        ),
      }),
    budgetMs(RUNS, 60_000),
  );

  test('a case of the model is checked, not assumed: a transfer that must move money moves it', async () => {
    const users = freshUsers();
    const b = backend();
    await b.setBalances([
      [users[0], 100n],
      [users[1], INT64_MAX - 100n],
    ]);
    const run = await play(
      b,
      {
        mode: 'saga',
        balances: [100n, INT64_MAX - 100n],
        amount: 100n,
        abortAfter: 2,
        copies: [1, 1, 1, 1],
        crashes: [],
        noise: [],
      },
      `prop-${randomUUID()}`,
      users,
    );
    expect(run).toMatchObject({ outcome: 'commit', violations: [] });
    expect(await b.balances(users)).toEqual([0n, INT64_MAX]);
  });
});
