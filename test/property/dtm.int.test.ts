// Property, through the real dtm: random transfers — any mode (msg, saga, tcc, xa, workflow), unknown accounts, an
// account paying itself, amounts at the int64 edges, several at once over the same accounts — each reach a final status
// (succeed or failed) within a bound, and the money adds up: per gid the ledger is all (the amount moved once from
// payer to payee) or nothing, balances equal the start plus those moves, none negative, the sum unchanged.
import { randomUUID } from 'node:crypto';
import { TRANSFER_MODES, type TransferMode, transfer } from '@dtm-gozero/app/transfer';
import { finalTrans } from '@dtm-gozero/devkit/dtm';
import { testStack } from '@dtm-gozero/devkit/stack';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { amountArb, balanceArb, freshUsers, INT64_MAX, INT64_MIN } from './delivery.ts';
import { budgetMs, fuzzParams } from './params.ts';
import { BANK_DATABASES, type InProcessTrans, startOnSuiteDatabase } from './trans-server.ts';

const RUNS = 12;
/** How long dtm may take to finish one transfer (it retries a transient answer after 1 s, then backs off). */
const FINAL_MS = 25_000;

/** Starting balances of the case's three accounts: mostly ordinary, up to `max` (int64's edge by default). */
const balancesArb = (max?: bigint) =>
  fc.tuple(
    ...[0, 1, 2].map(() => fc.oneof({ arbitrary: fc.bigInt({ min: 0n, max: 10_000n }), weight: 2 }, balanceArb(max))),
  );

/** The modes the property covers: every transfer mode of the app. */
const MODES: readonly TransferMode[] = TRANSFER_MODES;

/** An account of the case (0..2), or one that does not exist. */
const accountArb = fc.oneof(
  { arbitrary: fc.constantFrom(0, 1, 2), weight: 6 },
  { arbitrary: fc.constant('unknown' as const), weight: 1 },
);
const transferArb = fc.record({
  mode: fc.constantFrom(...MODES),
  from: accountArb,
  to: accountArb,
  // mostly amounts that can move, so both outcomes are common
  amount: fc.oneof(
    { arbitrary: fc.bigInt({ min: 1n, max: 5_000n }), weight: 3 },
    { arbitrary: amountArb(), weight: 2 },
  ),
});

/**
 * One transfer with balances anywhere up to int64's edge, or several at once over accounts holding less than 2^63
 * in all. Known and left open (docs/fuzz.md): concurrent sagas over more money than int64 holds can leave a
 * compensation that can never apply — a debit's credit-back past 2^63-1 once another transfer credited the account
 * in between — and dtm retries it until an operator ends it (trans logs it as a branch that cannot succeed).
 */
const caseArb = fc.oneof(
  fc.tuple(balancesArb(), fc.array(transferArb, { minLength: 1, maxLength: 1 })),
  fc.tuple(balancesArb(2n ** 61n), fc.array(transferArb, { minLength: 2, maxLength: 4 })),
);

/** The gid's final status in dtm, or an error naming what transfer() answered (dtm may never have seen it). */
const finalStatus = (gid: string, said: string): Promise<string | undefined> =>
  finalTrans(gid, FINAL_MS).then(
    (f) => f.transaction?.status,
    (err: unknown) => {
      throw new Error(`${String(err)}; transfer() answered: ${said}`);
    },
  );

describe.each(BANK_DATABASES)('trans on %s', (_name, section) => {
  let trans: InProcessTrans;
  beforeAll(async () => {
    trans = await startOnSuiteDatabase(section, 'prop_dtm');
  }, 60_000);
  afterAll(() => trans?.stop());

  // The property's workflow cases, fixed: refused payloads at once, each ended `failed` by dtm with nothing moved,
  // beside one that goes through. On PostgreSQL (the second trans of this process) they used to stay unfinished:
  // the app's workflows were bound to the first trans and refused any other, so they never reached dtm; and a
  // negative amount, stored in the workflow's data, did not read back, so it stopped before dtm too.
  test('workflow transfers with refused payloads, several at once: each final, only the good one moved', async () => {
    const [a, b] = freshUsers();
    const unknown = 9_100_000_000_000_000_000n + BigInt(Math.floor(Math.random() * 1e9));
    await trans.bank.setBalances([
      [a, 1_000n],
      [b, 1_000n],
    ]);
    const ctx = {
      dtm: testStack().dtmGrpc,
      busiServer: `127.0.0.1:${trans.port}`,
      bank: trans.bank,
      options: { waitResult: true, retryInterval: 1, timeoutToFail: 10 },
    };
    const cases = [
      { from: a, to: b, amount: 0n },
      { from: a, to: b, amount: -1n },
      { from: a, to: b, amount: INT64_MIN },
      { from: a, to: b, amount: 5_000n }, // more than the payer holds
      { from: unknown, to: b, amount: 7n },
      { from: a, to: unknown, amount: 7n }, // refused by TransIn: the debit is rolled back
      { from: a, to: b, amount: 30n },
    ].map((t) => ({ ...t, mode: 'workflow' as const, gid: `prop-dtm-wf-${randomUUID()}` }));
    const said = await Promise.all(cases.map((t) => transfer(ctx, t.gid, t).then(() => 'ok', String)));
    const finals = await Promise.all(cases.map((t, i) => finalStatus(t.gid, said[i] as string)));
    expect(finals, `what transfer() answered: ${said.join(' | ')}`).toEqual([
      'failed',
      'failed',
      'failed',
      'failed',
      'failed',
      'failed',
      'succeed',
    ]);
    const got = await trans.bank.balances();
    expect([got.get(a), got.get(b)]).toEqual([970n, 1_030n]);
    expect(got.has(unknown), 'an unknown account was created').toBe(false);
  }, 60_000);

  test(
    `random transfers in every mode through dtm: each final within ${FINAL_MS / 1000} s, the money all-or-nothing`,
    async () => {
      const tally = new Map<string, number>();
      await fc.assert(
        fc.asyncProperty(caseArb, async ([start, transfers]) => {
          const [a, b] = freshUsers();
          const [c] = freshUsers();
          const users = [a, b, c as bigint];
          const unknown = 9_000_000_000_000_000_000n + BigInt(Math.floor(Math.random() * 1e9));
          await trans.bank.setBalances(users.map((u, i) => [u, start[i] as bigint]));
          const id = (x: number | 'unknown') => (x === 'unknown' ? unknown : (users[x] as bigint));
          const ctx = {
            dtm: testStack().dtmGrpc,
            busiServer: `127.0.0.1:${trans.port}`,
            bank: trans.bank,
            options: { waitResult: true, retryInterval: 1, timeoutToFail: 10 },
          };
          const runs = transfers
            // the msg mode's local step is the app's own code, behind its flag check (parseTransfer): a positive
            // amount; every other mode gets whatever a client may send to dtm
            .filter((t) => t.mode !== 'msg' || t.amount > 0n)
            .map((t) => ({ ...t, gid: `prop-dtm-${randomUUID()}`, from: id(t.from), to: id(t.to) }));
          // the outcome is read from dtm below; what transfer() said only explains a gid that never became final
          const said = await Promise.all(runs.map((t) => transfer(ctx, t.gid, t).then(() => 'ok', String)));
          const finals = await Promise.all(runs.map((t, i) => finalStatus(t.gid, said[i] as string)));
          for (const [i, t] of runs.entries()) {
            const k = `${t.mode} ${finals[i]}`;
            tally.set(k, (tally.get(k) ?? 0) + 1);
          }
          const ledger = await trans.bank.ledger(runs.map((t) => t.gid));
          const expected = new Map(users.map((u, i) => [u, start[i] as bigint]));
          runs.forEach((t, i) => {
            const net = new Map<bigint, bigint>();
            for (const r of ledger.filter((r) => r.gid === t.gid)) net.set(r.user, (net.get(r.user) ?? 0n) + r.delta);
            const moved = [...net].filter(([, d]) => d !== 0n);
            const want =
              finals[i] === 'succeed' && t.from !== t.to
                ? [
                    [t.from, -t.amount],
                    [t.to, t.amount],
                  ]
                : [];
            expect(moved.sort(), `${t.mode} ${t.gid} ${finals[i]}: net ledger per account`).toEqual(want.sort());
            for (const [u, d] of moved) expected.set(u, (expected.get(u) ?? 0n) + d);
          });
          const got = await trans.bank.balances();
          for (const u of users) {
            expect(got.get(u), `balance of ${u}`).toBe(expected.get(u));
            expect(got.get(u) as bigint).toBeGreaterThanOrEqual(0n);
            expect(got.get(u) as bigint).toBeLessThanOrEqual(INT64_MAX);
          }
          expect(got.has(unknown), 'an unknown account was created').toBe(false);
        }),
        {
          ...fuzzParams(RUNS),
          // one plain transfer per mode in every run, so each mode's success path is always among the cases
          examples: [
            [
              [
                [10_000n, 10_000n, 10_000n],
                MODES.map((mode, i) => ({
                  mode,
                  from: (i % 3) as 0 | 1 | 2,
                  to: ((i + 1) % 3) as 0 | 1 | 2,
                  amount: 30n,
                })),
              ],
            ],
          ],
        },
      );
      process.stdout.write(`dtm property (${section}): ${[...tally].map(([k, n]) => `${k} ×${n}`).join(', ')}\n`);
      for (const mode of MODES) expect(tally.get(`${mode} succeed`), `${mode} succeeded`).toBeGreaterThan(0);
    },
    budgetMs(RUNS, 180_000),
  );
});
