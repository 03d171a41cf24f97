import { randomUUID } from 'node:crypto';
import { type Bank, openBank, parsePostgresDataSource } from '@dtm-gozero/bank';
import type { Proc } from '@dtm-gozero/devkit';
import { dtmStatus } from '@dtm-gozero/devkit/dtm';
import { appConfig, runApp } from '@dtm-gozero/devkit/stack';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startBankPostgres, startPostgresBankTrans } from '../support/bank-fixture.ts';

// The bank on PostgreSQL, through configuration only (Postgres.DataSource): trans creates the database, schemas and
// barrier table on a server that never saw them, and every mode moves money exactly once.
let pg: Awaited<ReturnType<typeof startBankPostgres>>;
let trans: { proc: Proc; port: number; config: string };
let app: string;
let bank: Bank;

beforeAll(async () => {
  pg = await startBankPostgres();
  const key = `trans-pg-${randomUUID().slice(0, 8)}`;
  trans = await startPostgresBankTrans(key, pg.url('bank_pg'));
  app = appConfig(key);
  bank = openBank(parsePostgresDataSource(pg.url('bank_pg'), 'test'));
}, 120_000);

afterAll(async () => {
  trans?.proc.kill('SIGTERM');
  await trans?.proc.exited(8000).catch(() => undefined);
  await bank?.close();
  await pg?.stop();
});

test.each(['saga', 'tcc', 'msg', 'xa'])('Postgres: transfer --mode %s moves 30 from 1 to 2, once', async (mode) => {
  const before = await bank.balances();
  const p = runApp([
    'transfer',
    '-f',
    app,
    '--bank',
    trans.config,
    '--from',
    '1',
    '--to',
    '2',
    '--amount',
    '30',
    '--mode',
    mode,
  ]);
  expect(await p.exited(40_000), p.stderr()).toBe(0);
  const gid = /^transfer \S+ (\S+) succeed$/m.exec(p.stdout())?.[1] as string;
  expect(await dtmStatus(gid)).toBe('succeed');
  const after = await bank.balances();
  expect([after.get(1n), after.get(2n)]).toEqual([(before.get(1n) ?? 0n) - 30n, (before.get(2n) ?? 0n) + 30n]);
  expect((await bank.ledger([gid])).map((r) => r.delta).sort()).toEqual([-30n, 30n]);
});

test('Postgres: above the balance fails and nothing moves', async () => {
  const before = await bank.balances();
  const p = runApp([
    'transfer',
    '-f',
    app,
    '--bank',
    trans.config,
    '--from',
    '1',
    '--to',
    '2',
    '--amount',
    '99999999',
    '--mode',
    'saga',
  ]);
  expect(await p.exited(40_000)).toBe(1);
  expect(p.stderr()).toMatch(/insufficient funds: account 1 holds/);
  expect(await bank.balances()).toEqual(before);
});
