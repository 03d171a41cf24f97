import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Bank } from '@dtm-gozero/bank';
import { freePort, type Proc, root, runNode, TRANS, tempFile } from '@dtm-gozero/devkit';
import { appConfig, runApp, testDatabases, testStack } from '@dtm-gozero/devkit/stack';
import { AdjustInfo } from '@dtm-gozero/proto/trans';
import { Metadata } from '@grpc/grpc-js';
import { Etcd3 } from 'etcd3';
import { createConnection } from 'mysql2/promise';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type BankDb, bankOf, dtmMetadata, rawCall, startBankDb, startBankTrans } from '../support/bank-fixture.ts';

// The bank's bad-input table (docs/bank.md, "Bad input: the bank"): each case gives a message naming the problem and the
// fix, a non-zero exit (or the gRPC status dtm acts on) within 10 s, and leaves every balance as it was. trans runs
// as a database user whose password holds / : @ % (and the wrong passwords tried hold them too): no output of any
// case, nor trans's own, ever shows one.
let db: BankDb;
let trans: { proc: Proc; port: number; config: string };
let app: string;
let bank: Bank;
/** The password of the database user trans runs as (go-sql-driver's DSN takes it raw: no URL decoding). */
const SECRET = `se/cr:et@p%41ss-${randomUUID().slice(0, 4)}`;
/** Wrong passwords tried by the cases, as hostile to a mask as the right one. */
const WRONG = 'wr/ong:p@ss%w0rd';
let userDsn: (db: string, params?: string) => string;

beforeAll(async () => {
  db = await startBankDb();
  const c = await createConnection({ ...db.server });
  try {
    await c.query("CREATE USER 'bank_user'@'%' IDENTIFIED BY ?", [SECRET]);
    await c.query("GRANT ALL PRIVILEGES ON *.* TO 'bank_user'@'%'");
  } finally {
    await c.end();
  }
  userDsn = (name, params = 'parseTime=true') =>
    `bank_user:${SECRET}@tcp(${db.server.host}:${db.server.port})/${name}?${params}`;
  const key = `trans-bad-${randomUUID().slice(0, 8)}`;
  trans = await startBankTrans(key, userDsn('bank_bad'));
  app = appConfig(key);
  bank = bankOf(userDsn('bank_bad'));
  await bank.setBalances([[77n, 2n ** 63n - 10n]]);
}, 120_000);

afterAll(async () => {
  trans?.proc.kill('SIGTERM');
  await trans?.proc.exited(8000).catch(() => undefined);
  await bank?.close();
  await db?.stop();
});

interface Outcome {
  /** Exit code of a command, or the gRPC status of a raw call. */
  code: number | null;
  text: string;
  /** Everything the case printed (stdout too), searched for passwords. */
  all?: string;
}

const transfer = (...args: string[]) => cli(['transfer', '-f', app, '--bank', trans.config, ...args]);

async function cli(args: string[]): Promise<Outcome> {
  const p = runApp(args);
  const code = await p.exited(10_000);
  return { code, text: p.stderr(), all: p.stdout() + p.stderr() };
}

/** trans started with a YAML of its own (ListenOn on a free port); it must refuse to start. */
async function transWith(yaml: (port: number) => string): Promise<Outcome> {
  const port = await freePort();
  const hosts = testStack()
    .etcdEndpoints.map((h) => `    - ${h}\n`)
    .join('');
  const file = tempFile(
    'trans.yaml',
    `Name: trans.rpc\nListenOn: 127.0.0.1:${port}\nEtcd:\n  Hosts:\n${hosts}  Key: bad-${port}\n${yaml(port)}`,
  );
  const p = runNode(TRANS, ['-f', file], join(root, 'apps/trans'));
  const code = await p.exited(10_000);
  return { code, text: p.stderr(), all: p.stdout() + p.stderr() };
}

const bankYaml = (body: string): string =>
  tempFile('bank.yaml', `Name: t\nListenOn: 127.0.0.1:1\nEtcd:\n  Hosts:\n    - 127.0.0.1:2379\n  Key: trans\n${body}`);
const raw = async (
  method: string,
  bytes: Uint8Array,
  md = dtmMetadata('saga', `bad-${randomUUID()}`, '01', 'action'),
) => {
  const r = await rawCall(trans.port, method, bytes, md);
  return { code: r.code, text: r.details };
};
const adjust = (Amount: bigint, UserID: bigint) => AdjustInfo.encode({ Amount, UserID }).finish();

type Case = [name: string, run: () => Promise<Outcome>, code: number, message: RegExp];
const EXIT = 1;
const ABORTED = 10;

const CASES: Case[] = [
  // ---- transfer flags (checked before anything is contacted)
  [
    'amount zero',
    () => transfer('--from', '1', '--to', '2', '--amount', '0'),
    EXIT,
    /--amount 0 is not positive; pass a positive number of cents/,
  ],
  ['amount negative', () => transfer('--from', '1', '--to', '2', '--amount=-5'), EXIT, /--amount -5 is not positive/],
  [
    'amount fractional',
    () => transfer('--from', '1', '--to', '2', '--amount', '1.5'),
    EXIT,
    /--amount "1\.5" is not a whole number of cents; pass e\.g\. --amount 30/,
  ],
  [
    'amount not a number',
    () => transfer('--from', '1', '--to', '2', '--amount', 'ten'),
    EXIT,
    /--amount "ten" is not a whole number of cents/,
  ],
  [
    'amount above int64',
    () => transfer('--from', '1', '--to', '2', '--amount', '9223372036854775808'),
    EXIT,
    /above 2\^63-1, the largest int64; pass a smaller amount/,
  ],
  ['amount missing', () => transfer('--from', '1', '--to', '2'), EXIT, /--amount is missing; pass the amount in cents/],
  [
    'same account twice',
    () => transfer('--from', '1', '--to', '1', '--amount', '5'),
    EXIT,
    /--from and --to are both 1; a transfer needs two different accounts/,
  ],
  [
    'account id zero',
    () => transfer('--from', '0', '--to', '2', '--amount', '5'),
    EXIT,
    /--from "0" is not an account id; pass a whole number ≥ 1/,
  ],
  [
    'account id not a number',
    () => transfer('--from', '1', '--to', 'bob', '--amount', '5'),
    EXIT,
    /--to "bob" is not an account id/,
  ],
  [
    'unknown mode',
    () => transfer('--from', '1', '--to', '2', '--amount', '5', '--mode', 'bogus'),
    EXIT,
    /--mode "bogus" is not a transfer mode; pass one of saga, tcc, msg, xa, workflow/,
  ],
  [
    'transfer flag without transfer',
    () => cli(['balances', '--bank', trans.config, '--amount', '5']),
    EXIT,
    /--amount belongs to the transfer command/,
  ],
  // ---- accounts and funds (the bank decides)
  [
    'unknown account',
    () => transfer('--from', '1', '--to', '99', '--amount', '5'),
    EXIT,
    /account 99 does not exist; see the accounts with npm run app -- balances/,
  ],
  [
    'above the balance',
    () => transfer('--from', '1', '--to', '2', '--amount', '100000000', '--mode', 'tcc'),
    EXIT,
    /insufficient funds: account 1 holds \d+, the transfer needs 100000000/,
  ],
  // ---- configuration
  [
    '--bank file missing',
    () => transfer('--from', '1', '--to', '2', '--amount', '5', '--bank', '/nonexistent/bank.yaml'),
    EXIT,
    /config \/nonexistent\/bank\.yaml: cannot read it .*--bank <file>/,
  ],
  [
    '--bank without a database',
    () => cli(['balances', '--bank', bankYaml('')]),
    EXIT,
    /no Mysql or Postgres section, so a trans started with it only logs; pass the YAML trans runs with/,
  ],
  [
    'malformed DataSource',
    () => cli(['balances', '--bank', bankYaml('Mysql:\n  DataSource: dtm_busi\n')]),
    EXIT,
    /Mysql\.DataSource "dtm_busi" is not a MySQL data source; write go-zero's form user:pass@tcp\(127\.0\.0\.1:3306\)\/dtm_busi/,
  ],
  [
    'wrong database credentials',
    () =>
      cli([
        'balances',
        '--bank',
        bankYaml(`Mysql:\n  DataSource: root:${WRONG}@tcp(127.0.0.1:${db.server.port})/bank_bad\n`),
      ]),
    EXIT,
    /database root:\*\*\*@tcp\(.*\)\/bank_bad.* refused the request \(ER_ACCESS_DENIED_ERROR: Access denied.*fix Mysql\.DataSource/,
  ],
  [
    'database down',
    async () =>
      cli(['balances', '--bank', bankYaml(`Mysql:\n  DataSource: root:x@tcp(127.0.0.1:${await freePort()})/b\n`)]),
    EXIT,
    /is unreachable or refused the request \(ECONNREFUSED.*start it with `bash scripts\/db\.sh up`/,
  ],
  [
    'app config with a database',
    () =>
      transfer(
        '--from',
        '1',
        '--to',
        '2',
        '--amount',
        '5',
        '-f',
        bankYaml('Mysql:\n  DataSource: root:x@tcp(127.0.0.1:3306)/x\n'),
      ),
    EXIT,
    /has a Mysql section; the app uses the bank's database from trans's YAML/,
  ],
  [
    'trans: both Mysql and Postgres',
    () =>
      transWith(
        () =>
          'Mysql:\n  DataSource: root:x@tcp(127.0.0.1:3306)/a\nPostgres:\n  DataSource: postgres://p:x@127.0.0.1:5432/a\n',
      ),
    EXIT,
    /both Mysql and Postgres are set; keep the one the bank should use/,
  ],
  [
    'trans: Postgres.DataSource not a URL',
    () => transWith(() => 'Postgres:\n  DataSource: host=localhost\n'),
    EXIT,
    /Postgres\.DataSource "host=localhost" is not a PostgreSQL URL; write postgres:\/\/user:pass@127\.0\.0\.1:5432\/dtm_busi/,
  ],
  [
    'trans: database down',
    async () => transWith(() => `Mysql:\n  DataSource: root:x@tcp(127.0.0.1:1)/b\n`),
    EXIT,
    /trans: database root:\*\*\*@tcp\(127\.0\.0\.1:1\)\/b is unreachable.*start it with `bash scripts\/db\.sh up`/,
  ],
  [
    'trans: wrong credentials',
    () => transWith(() => `Mysql:\n  DataSource: root:${WRONG}@tcp(127.0.0.1:${db.server.port})/b\n`),
    EXIT,
    /trans: database .* refused the request \(ER_ACCESS_DENIED_ERROR/,
  ],
  // ---- servers down, malformed targets
  [
    'dtm down',
    async () => transfer('--from', '1', '--to', '2', '--amount', '5', '--dtm', `127.0.0.1:${await freePort()}`),
    EXIT,
    /dtm NewGid via 127\.0\.0\.1:\d+ failed \(is dtm running and registered\? or pass its direct address\)/,
  ],
  [
    'etcd down',
    async () =>
      cli([
        'transfer',
        '-f',
        appConfig('trans', `127.0.0.1:${await freePort()}`),
        '--bank',
        trans.config,
        '--from',
        '1',
        '--to',
        '2',
        '--amount',
        '5',
        '--dtm',
        testStack().dtmGrpc,
      ]),
    EXIT,
    /etcd at 127\.0\.0\.1:\d+ is unreachable/,
  ],
  [
    'trans down (its key still in etcd)',
    async () => {
      // A SIGKILLed trans leaves its key until the lease expires: the app finds an address that refuses.
      const etcd = new Etcd3({ hosts: testStack().etcdUrl });
      const key = `dead-trans-${randomUUID().slice(0, 8)}`;
      try {
        await etcd.put(`${key}/1`).value(`127.0.0.1:${await freePort()}`);
        return await cli([
          'transfer',
          '-f',
          appConfig(key),
          '--bank',
          trans.config,
          '--from',
          '1',
          '--to',
          '2',
          '--amount',
          '5',
          '--mode',
          'tcc',
        ]);
      } finally {
        await etcd.delete().prefix(`${key}/`);
        etcd.close();
      }
    },
    EXIT,
    // Found out before anything moves: the app asks trans whether it keeps balances first.
    /cannot tell whether trans at \S+ keeps balances .*UNAVAILABLE.*nothing was moved/,
  ],
  [
    'trans not registered',
    () =>
      cli([
        'transfer',
        '-f',
        appConfig('nobody-here'),
        '--bank',
        trans.config,
        '--from',
        '1',
        '--to',
        '2',
        '--amount',
        '5',
      ]),
    EXIT,
    /trans not found: .*nothing is registered in etcd under "nobody-here\/"; start trans with `npm run trans -- -f apps\/trans\/etc\/bank\.yaml`/,
  ],
  [
    'malformed dtm target',
    () => transfer('--from', '1', '--to', '2', '--amount', '5', '--dtm', 'etcd:///?key=dtmservice'),
    EXIT,
    /has no etcd hosts; write etcd:\/\/127\.0\.0\.1:2379\/<key>/,
  ],
  // ---- raw gRPC calls to trans (what dtm does with a stored payload)
  ['raw: garbage bytes', () => raw('TransOut', Buffer.from('ffffffffff', 'hex')), 13, /deserializ/i],
  [
    'raw: no dtm metadata',
    () => raw('TransOut', adjust(5n, 1n), new Metadata()),
    3,
    /invalid trans info: gRPC metadata dtm-trans_type, dtm-gid, dtm-branch_id, dtm-op missing or empty .*called by dtm/,
  ],
  [
    'raw: negative amount',
    () => raw('TransOut', adjust(-5n, 1n)),
    ABORTED,
    /Amount -5 is not positive; transfer a positive whole number of cents/,
  ],
  ['raw: user id zero', () => raw('TransIn', adjust(5n, 0n)), ABORTED, /UserID 0 is not a valid account id/],
  [
    'raw: int64 max',
    () => raw('TransOut', adjust(9223372036854775807n, 1n)),
    ABORTED,
    /insufficient funds: account 1 holds \d+, the transfer needs 9223372036854775807/,
  ],
  ['raw: unknown account credit', () => raw('TransIn', adjust(5n, 424242n)), ABORTED, /account 424242 does not exist/],
  [
    'raw: credit past 2^63-1',
    () => raw('TransIn', adjust(30n, 77n)), // account 77 is made nearly full in beforeAll
    ABORTED,
    /account 77 holds 9223372036854775798; crediting 30 would pass the largest balance 2\^63-1/,
  ],
  [
    'raw: a compensation whose action was refused (null compensation, not FAILURE)',
    async () => {
      const gid = `bad-${randomUUID()}`;
      await raw('TransOut', adjust(0n, 1n), dtmMetadata('saga', gid, '01', 'action'));
      return raw('TransOutRevert', adjust(0n, 1n), dtmMetadata('saga', gid, '01', 'compensate'));
    },
    0,
    /^$/,
  ],
  // ---- go-sql-driver's tls and Postgres's sslmode are honoured (this MariaDB and Postgres offer no TLS)
  [
    'DataSource with tls=true, server without TLS',
    () => cli(['balances', '--bank', bankYaml(`Mysql:\n  DataSource: ${userDsn('bank_bad', 'tls=true')}\n`)]),
    EXIT,
    /refused the request \(HANDSHAKE_NO_SSL_SUPPORT.*\(the DataSource asks for TLS: tls=true; use tls=preferred or tls=false/,
  ],
  [
    'DataSource with tls=skip-verify, server without TLS',
    () => cli(['balances', '--bank', bankYaml(`Mysql:\n  DataSource: ${userDsn('bank_bad', 'tls=skip-verify')}\n`)]),
    EXIT,
    /HANDSHAKE_NO_SSL_SUPPORT.*tls=skip-verify/,
  ],
  [
    'DataSource with tls=custom (a Go-registered TLS config)',
    () => cli(['balances', '--bank', bankYaml(`Mysql:\n  DataSource: ${userDsn('bank_bad', 'tls=custom')}\n`)]),
    EXIT,
    /tls=custom: a TLS config registered in Go code has no equivalent here; use tls=true, skip-verify, preferred or false/,
  ],
  [
    'Postgres DataSource with sslmode=require, server without TLS',
    () => {
      const { postgres } = testDatabases();
      return cli([
        'balances',
        '--bank',
        bankYaml(
          `Postgres:\n  DataSource: postgres://${postgres.user}:${encodeURIComponent(SECRET)}@${postgres.host}:${postgres.port}/bank_bad?sslmode=require\n`,
        ),
      ]);
    },
    EXIT,
    /does not support SSL/,
  ],
];

test('the table has at least 25 cases', () => {
  expect(CASES.length).toBeGreaterThanOrEqual(25);
});

test.each(CASES)('%s', async (_name, run, code, message) => {
  const before = await bank.balances();
  const started = Date.now();
  const r = await run();
  expect(Date.now() - started).toBeLessThan(10_000);
  expect(r.text).toMatch(message);
  expect(r.code).toBe(code);
  expect(await bank.balances()).toEqual(before);
  for (const secret of [SECRET, encodeURIComponent(SECRET), WRONG]) expect(r.all ?? r.text).not.toContain(secret);
});

test('tls=preferred on a server without TLS: plaintext, as go-sql-driver does', async () => {
  const r = await cli([
    'balances',
    '--bank',
    bankYaml(`Mysql:\n  DataSource: ${userDsn('bank_bad', 'tls=preferred')}\n`),
  ]);
  expect(r.code, r.text).toBe(0);
});

test("trans's own output (start line, every branch's log and error) never shows its password", () => {
  const out = trans.proc.stdout() + trans.proc.stderr();
  expect(out).toMatch(/the bank keeps its balances in bank_user:\*\*\*@tcp\(/);
  for (const secret of [SECRET, encodeURIComponent(SECRET)]) expect(out).not.toContain(secret);
});
