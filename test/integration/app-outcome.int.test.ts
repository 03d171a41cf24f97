// The app's exit code follows the money (issue #18): a trans that only logs is refused before anything is debited,
// a transfer that went through exits 0 even when dtm's HTTP API does not answer, and the messages name the right
// flag and the fix. Each case starts where a user starts: `npm run app -- …` against a real trans, dtm and MariaDB.
import { randomUUID } from 'node:crypto';
import type { Bank } from '@dtm-gozero/bank';
import { freePort, type Proc } from '@dtm-gozero/devkit';
import { dtmStatus } from '@dtm-gozero/devkit/dtm';
import { appConfig, runApp, startTrans, testDatabases } from '@dtm-gozero/devkit/stack';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { bankOf, startBankTrans } from '../support/bank-fixture.ts';

let bankTrans: { proc: Proc; config: string };
let logOnly: { proc: Proc; config: string };
let bankApp: string;
let logOnlyApp: string;
let bank: Bank;

beforeAll(async () => {
  // A database of this file's own on the suite's MariaDB, so no other test moves these balances meanwhile.
  const dsn = `${testDatabases().mysqlUrl}app_outcome_${randomUUID().slice(0, 8)}`;
  const bankKey = `trans-outcome-bank-${randomUUID().slice(0, 8)}`;
  const logKey = `trans-outcome-log-${randomUUID().slice(0, 8)}`;
  [bankTrans, logOnly] = await Promise.all([startBankTrans(bankKey, dsn), startTrans(logKey)]);
  bankApp = appConfig(bankKey);
  logOnlyApp = appConfig(logKey);
  bank = bankOf(dsn);
}, 120_000);

afterAll(async () => {
  for (const t of [bankTrans, logOnly]) t?.proc.kill('SIGTERM');
  await Promise.all([bankTrans, logOnly].map((t) => t?.proc.exited(8000).catch(() => undefined)));
  await bank?.close();
});

const balances = async (): Promise<[bigint, bigint]> => {
  const b = await bank.balances();
  return [b.get(1n) ?? -1n, b.get(2n) ?? -1n];
};

async function app(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const p = runApp(args);
  const code = await p.exited(40_000);
  return { code, out: p.stdout(), err: p.stderr() };
}

/** `transfer` of `amount` from 1 to 2 through the trans `appYaml` finds, with the bank of `bankTrans`. */
const transfer = (appYaml: string, amount: string, ...more: string[]) =>
  app(['transfer', '-f', appYaml, '--bank', bankTrans.config, '--from', '1', '--to', '2', '--amount', amount, ...more]);

test('msg-db against a trans that only logs is refused before user 1 pays', async () => {
  const before = await balances();
  const r = await app(['msg-db', '-f', logOnlyApp, '--bank', bankTrans.config]);
  expect(r.code).toBe(1);
  expect(r.err).toMatch(
    /keeps no balances .*it only logs.*nothing was moved.*npm run trans -- -f apps\/trans\/etc\/bank\.yaml/,
  );
  expect(r.out).toBe('');
  expect(await balances()).toEqual(before);
});

test.each(['saga', 'msg', 'tcc'])(
  'transfer --mode %s through a trans that only logs is refused, nothing moves',
  async (mode) => {
    const before = await balances();
    const r = await transfer(logOnlyApp, '30', '--mode', mode);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/keeps no balances/);
    expect(await balances()).toEqual(before);
  },
);

test('msg-db through the bank still moves the money (the probe lets it through)', async () => {
  const before = await balances();
  const r = await app(['msg-db', '-f', bankApp, '--bank', bankTrans.config]);
  expect(r.code, r.err).toBe(0);
  expect(await balances()).toEqual([before[0] - 30n, before[1] + 30n]);
});

test('a transfer that went through exits 0 although --dtm-http does not answer, and says why the status is Submit’s', async () => {
  const before = await balances();
  const port = await freePort(); // nothing listens there: a real ECONNREFUSED
  const r = await transfer(bankApp, '30', '--dtm-http', `http://127.0.0.1:${port}`);
  expect(r.code, r.err).toBe(0);
  const gid = /^transfer saga (\S+) succeed$/m.exec(r.out)?.[1];
  expect(gid, r.out).toBeDefined();
  expect(r.err).toMatch(/does not answer \(ECONNREFUSED\).*printing succeed, dtm's answer/);
  expect(await dtmStatus(gid as string)).toBe('succeed');
  expect(await balances()).toEqual([before[0] - 30n, before[1] + 30n]);
});

test('an example mode that succeeded exits 0 without dtm’s HTTP API; with --fail it prints failed', async () => {
  const port = await freePort();
  const ok = await app(['saga', '-f', logOnlyApp, '--dtm-http', `http://127.0.0.1:${port}`]);
  expect(ok.code, ok.err).toBe(0);
  expect(ok.out).toMatch(/^saga \S+ succeed$/m);
  const failed = await app(['saga', '--fail', '-f', logOnlyApp, '--dtm-http', `http://127.0.0.1:${port}`]);
  expect(failed.code, failed.err).toBe(0);
  expect(failed.out).toMatch(/^saga \S+ failed$/m);
});

test('a transfer refused for funds names the amount, without dtm’s stray FAILURE word', async () => {
  const r = await transfer(bankApp, '100000000');
  expect(r.code).toBe(1);
  expect(r.err).toMatch(/insufficient funds: account 1 holds \d+, the transfer needs 100000000$/m);
});

test('--bank naming a missing file says --bank, not -f', async () => {
  const r = await app(['balances', '--bank', '/nonexistent/bank.yaml']);
  expect(r.code).toBe(1);
  expect(r.err).toMatch(
    /config \/nonexistent\/bank\.yaml: cannot read it \(file not found\); pass an existing file with --bank <file>/,
  );
  expect(r.err).not.toMatch(/-f <file>/);
});

test('etcd down: the app names npm run stack:up, as trans does', async () => {
  const port = await freePort();
  const r = await app(['-f', appConfig('trans', `127.0.0.1:${port}`), '--dtm', `etcd://127.0.0.1:${port}/dtmservice`]);
  expect(r.code).toBe(1);
  expect(r.err).toMatch(/etcd at 127\.0\.0\.1:\d+ is unreachable.*npm run stack:up/);
});
