import { randomUUID } from 'node:crypto';
import type { Proc } from '@dtm-gozero/devkit';
import { dtmStatus } from '@dtm-gozero/devkit/dtm';
import { appConfig, runApp, startTrans, testDatabases } from '@dtm-gozero/devkit/stack';
import { createPool, type Pool } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

// `npm run app -- <mode> [--fail]` against the real dtm and etcd (the global setup's) and the suite's MariaDB, with
// trans as a child process:
// the app's line, trans's log, dtm's final status, and the balances where a mode touches the database.
let trans: Proc;
let config: string;
let transConfig: string;
let pool: Pool;

beforeAll(async () => {
  pool = createPool({ uri: testDatabases().mysqlUrl, connectionLimit: 2 });
  const key = `trans-modes-${randomUUID().slice(0, 8)}`;
  // trans keeps the bank in the suite's MariaDB (Mysql.DataSource in its YAML); msg-db's local step uses the same.
  ({ proc: trans, config: transConfig } = await startTrans(key, { bank: true }));
  await trans.waitFor(/the bank keeps its balances in/, 10_000);
  config = appConfig(key);
}, 180_000);

afterAll(async () => {
  trans?.kill('SIGTERM');
  await trans?.exited(6000).catch(() => undefined);
  await pool?.end();
});

const STAMP = /^\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2} /;

async function balances(): Promise<[number, number]> {
  const [rows] = await pool.query(
    'SELECT user_id, balance FROM dtm_busi.user_account WHERE user_id IN (1, 2) ORDER BY user_id',
  );
  const r = rows as { balance: number }[];
  return [Number(r[0]?.balance), Number(r[1]?.balance)];
}

/** Runs the app in one mode; returns its gid and the lines trans logged meanwhile (timestamps checked and cut). */
async function run(args: string[], status: 'succeed' | 'failed'): Promise<{ gid: string; lines: string[] }> {
  const before = trans.stderr().length;
  const app = runApp(['-f', config, ...args, ...(args[0] === 'msg-db' ? ['--bank', transConfig] : [])]);
  expect(await app.exited(30_000), app.stderr()).toBe(0);
  const out = app.stdout().trim().split('\n');
  expect(out).toHaveLength(1);
  const [mode, gid, final] = (out[0] as string).split(' ');
  expect(mode).toBe(args[0]);
  expect(final).toBe(status);
  expect(await dtmStatus(gid as string)).toBe(status);
  const lines = trans
    .stderr()
    .slice(before)
    .split('\n')
    .filter((l) => l !== '');
  for (const l of lines) expect(l).toMatch(STAMP);
  return { gid: gid as string, lines: lines.map((l) => l.replace(STAMP, '')) };
}

const OUT = 'transfer out 30 cents from 1';
const IN = 'transfer in 30 cents to 2';
const FAILED = ': FAILURE (asked for by the caller)';

describe('app modes', () => {
  test('msg: prepare, local step, submit; dtm calls TransOut then TransIn', async () => {
    expect((await run(['msg'], 'succeed')).lines).toEqual([OUT, IN]);
  });

  test('msg --fail: the local step fails, the message is aborted, no branch runs', async () => {
    expect((await run(['msg', '--fail'], 'failed')).lines).toEqual([]);
  });

  test('tcc: tries, then dtm confirms in reverse order', async () => {
    expect((await run(['tcc'], 'succeed')).lines).toEqual([OUT, IN, `confirm ${IN}`, `confirm ${OUT}`]);
  });

  test('tcc --fail: TransIn’s try fails, dtm cancels both branches', async () => {
    expect((await run(['tcc', '--fail'], 'failed')).lines).toEqual([
      OUT,
      `${IN}${FAILED}`,
      `revert ${IN}`,
      `revert ${OUT}`,
    ]);
  });

  test('saga: both actions', async () => {
    expect((await run(['saga'], 'succeed')).lines).toEqual([OUT, IN]);
  });

  test('saga --fail: TransIn answers FAILURE, dtm compensates both, the failed step included', async () => {
    expect((await run(['saga', '--fail'], 'failed')).lines).toEqual([
      OUT,
      `${IN}${FAILED}`,
      `revert ${IN}`,
      `revert ${OUT}`,
    ]);
  });

  test('xa: both local XA transactions commit; the money moves', async () => {
    const [a, b] = await balances();
    const { gid, lines } = await run(['xa'], 'succeed');
    expect(lines.slice(0, 2)).toEqual([`xa ${OUT}`, `xa ${IN}`]);
    expect([...lines.slice(2)].sort()).toEqual([`xa commit ${gid} branch 01`, `xa commit ${gid} branch 02`]);
    expect(await balances()).toEqual([a - 30, b + 30]);
  });

  test('xa --fail: TransInXa fails in phase 1, TransOutXa is rolled back; balances unchanged', async () => {
    const before = await balances();
    const { gid, lines } = await run(['xa', '--fail'], 'failed');
    expect(lines).toEqual([`xa ${OUT}`, `xa ${IN}${FAILED}`, `xa rollback ${gid} branch 01`]);
    expect(await balances()).toEqual(before);
  });

  test('workflow: saga step, TCC step (confirmed when the workflow ends), local step; the money moves', async () => {
    const [a, b] = await balances();
    expect((await run(['workflow'], 'succeed')).lines).toEqual([OUT, IN, `confirm ${IN}`]);
    expect(await balances()).toEqual([a - 30, b + 30]);
  });

  test('workflow --fail: TransIn answers FAILURE, the workflow rolls back the saga step; balances unchanged', async () => {
    const before = await balances();
    expect((await run(['workflow', '--fail'], 'failed')).lines).toEqual([OUT, `${IN}${FAILED}`, `revert ${OUT}`]);
    expect(await balances()).toEqual(before);
  });

  // msg-db needs trans to run the bank (a database in its YAML): test/integration/bank.int.test.ts runs it.

  test('an unknown mode is refused with the usage', async () => {
    const app = runApp(['-f', config, 'bogus']);
    expect(await app.exited(10_000)).toBe(1);
    expect(app.stderr()).toMatch(
      /unknown mode "bogus"; usage: npm run app -- \[msg\|tcc\|saga\|xa\|msg-db\|workflow\] \[--fail\]/,
    );
  });
});
