import { randomUUID } from 'node:crypto';
import type { Bank } from '@dtm-gozero/bank';
import { eventually, type Proc, root, runCommand, tempFile } from '@dtm-gozero/devkit';
import { dtmStatus } from '@dtm-gozero/devkit/dtm';
import { appConfig, runApp, testStack } from '@dtm-gozero/devkit/stack';
import { genGid, xaGlobalTransaction } from '@dtm-gozero/dtmgrpc';
import { AdjustInfo, TransSvcService } from '@dtm-gozero/proto/trans';
import { createConnection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type BankDb, bankOf, dtmMetadata, rawCall, startBankDb, startBankTrans } from '../support/bank-fixture.ts';

// The bank end to end: trans creates its database on a MariaDB that never saw it, then every mode moves money
// exactly once, refuses what it must (unknown account, insufficient funds, bad amounts) without moving any, and
// answers within dtm's request timeout when the database makes it wait.
let db: BankDb;
let trans: { proc: Proc; port: number; config: string };
let app: string;
let bank: Bank;
let target: string;
const DSN_DB = 'bank_it';

beforeAll(async () => {
  db = await startBankDb();
  const key = `trans-bank-${randomUUID().slice(0, 8)}`;
  trans = await startBankTrans(key, db.dsn(DSN_DB));
  app = appConfig(key);
  bank = bankOf(db.dsn(DSN_DB));
  target = `etcd://${testStack().etcdEndpoints.join(',')}/${key}`;
}, 120_000);

afterAll(async () => {
  trans?.proc.kill('SIGTERM');
  await trans?.proc.exited(8000).catch(() => undefined);
  await bank?.close();
  await db?.stop();
});

const balances = async (): Promise<[bigint, bigint]> => {
  const b = await bank.balances();
  return [b.get(1n) ?? -1n, b.get(2n) ?? -1n];
};

async function transfer(args: string[]): Promise<{ code: number | null; out: string; err: string; gid?: string }> {
  const p = runApp(['transfer', '-f', app, '--bank', trans.config, ...args]);
  const code = await p.exited(40_000);
  const gid = /^transfer \S+ (\S+) /m.exec(p.stdout())?.[1];
  return { code, out: p.stdout(), err: p.stderr(), ...(gid ? { gid } : {}) };
}

describe('the bank', () => {
  test('trans created the database, tables and barrier table at start, on a server that never had them', async () => {
    const c = await createConnection({ ...db.server });
    try {
      const [rows] = await c.query(
        "SELECT CONCAT(table_schema, '.', table_name) AS t FROM information_schema.tables WHERE table_schema IN (?, 'dtm_barrier') ORDER BY t",
        [DSN_DB],
      );
      expect((rows as { t: string }[]).map((r) => r.t)).toEqual([
        `${DSN_DB}.ledger`,
        `${DSN_DB}.user_account`,
        'dtm_barrier.barrier',
      ]);
    } finally {
      await c.end();
    }
    expect(await balances()).toEqual([10_000n, 10_000n]);
  });

  test.each(['saga', 'tcc', 'msg', 'xa', 'workflow'])(
    'transfer --mode %s moves 30 from 1 to 2, once, with ledger rows',
    async (mode) => {
      const before = await balances();
      const r = await transfer(['--from', '1', '--to', '2', '--amount', '30', '--mode', mode]);
      expect(r.code, r.err).toBe(0);
      expect(r.out).toMatch(new RegExp(`^transfer ${mode} \\S+ succeed$`, 'm'));
      expect(await dtmStatus(r.gid as string)).toBe('succeed');
      expect(await balances()).toEqual([before[0] - 30n, before[1] + 30n]);
      const rows = await bank.ledger([r.gid as string]);
      expect(rows.map((x) => [x.user, x.delta]).sort()).toEqual([
        [1n, -30n],
        [2n, 30n],
      ]);
    },
  );

  test.each(['saga', 'tcc', 'msg', 'xa', 'workflow'])(
    'transfer --mode %s above the balance fails, nothing moves',
    async (mode) => {
      const before = await balances();
      const r = await transfer(['--from', '1', '--to', '2', '--amount', '1000000', '--mode', mode]);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/insufficient funds: account 1 holds \d+, the transfer needs 1000000/);
      expect(await dtmStatus(r.gid as string)).toBe('failed');
      expect(await balances()).toEqual(before);
    },
  );

  test('npm run bank:init creates a database the bank never had, idempotently; a YAML without one exits 1', async () => {
    const dbName = 'bank_init_it';
    const yaml = tempFile(
      'bank.yaml',
      `Name: trans.rpc\nListenOn: 127.0.0.1:0\nMysql:\n  DataSource: ${db.dsn(dbName)}\n`,
    );
    const init = async (file: string) => {
      const p = runCommand('npm', ['run', '--silent', 'bank:init', '--', '-f', file], root);
      return { code: await p.exited(60_000), out: p.stdout(), err: p.stderr() };
    };
    for (let run = 0; run < 2; run++) {
      const r = await init(yaml);
      expect(r, `run ${run}`).toMatchObject({ code: 0 });
      expect(r.out).toContain(
        `/${dbName}?parseTime=true has its tables (user_account, ledger) and dtm_barrier.barrier`,
      );
      expect(r.out + r.err, 'the password').not.toContain(`:${db.server.password}@`);
    }
    const fresh = bankOf(db.dsn(dbName));
    try {
      expect(await fresh.balances()).toEqual(
        new Map([
          [1n, 10_000n],
          [2n, 10_000n],
        ]),
      );
    } finally {
      await fresh.close();
    }
    const logOnly = await init(tempFile('trans.yaml', 'Name: trans.rpc\nListenOn: 127.0.0.1:0\n'));
    expect(logOnly.code).toBe(1);
    expect(logOnly.err).toMatch(/^bank:init: config .*trans\.yaml: no Mysql or Postgres section/m);
  });

  test('msg-db: user 1 pays in the local transaction, TransIn credits user 2 (the money arrives)', async () => {
    const before = await balances();
    const p = runApp(['msg-db', '-f', app, '--bank', trans.config]);
    expect(await p.exited(30_000), p.stderr()).toBe(0);
    expect(await balances()).toEqual([before[0] - 30n, before[1] + 30n]);
  });

  test('msg-db --fail: the local transaction rolls back with its barrier row, the message is aborted', async () => {
    const before = await balances();
    const p = runApp(['msg-db', '--fail', '-f', app, '--bank', trans.config]);
    expect(await p.exited(30_000), p.stderr()).toBe(0);
    expect(p.stdout()).toMatch(/^msg-db \S+ failed$/m);
    expect(await balances()).toEqual(before);
  });

  test('msg: the local step’s barrier row is in trans’s database, where dtm’s back-check reads it', async () => {
    const r = await transfer(['--from', '2', '--to', '1', '--amount', '5', '--mode', 'msg']);
    expect(r.code, r.err).toBe(0);
    const rows = await bank.barrierRows([r.gid as string]);
    expect(rows).toContainEqual({ gid: r.gid, branchId: '00', op: 'msg', reason: 'msg' });
  });

  test('an app config with a database of its own is refused: the bank is named once, by trans’s YAML', async () => {
    const own = tempFile(
      'app.yaml',
      `Etcd:\n  Hosts:\n    - 127.0.0.1:2379\n  Key: trans\nMysql:\n  DataSource: root:x@tcp(127.0.0.1:1)/other\n`,
    );
    const p = runApp(['transfer', '-f', own, '--bank', trans.config, '--from', '1', '--to', '2', '--amount', '1']);
    expect(await p.exited(15_000)).toBe(1);
    expect(p.stderr()).toMatch(/has a Mysql section; the app uses the bank's database from trans's YAML \(--bank/);
  });

  test('XA to an unknown account fails and rolls back: affected rows are checked, no money is created', async () => {
    const before = await balances();
    const gid = await genGid(testStack().dtmGrpc);
    const err = await xaGlobalTransaction(testStack().dtmGrpc, gid, async (xa) => {
      await xa.callBranch(target, TransSvcService.transOutXa, { Amount: 7n, UserID: 1n });
      await xa.callBranch(target, TransSvcService.transInXa, { Amount: 7n, UserID: 99n });
    }).catch((e: unknown) => e);
    expect(String(err)).toMatch(/account 99 does not exist/);
    await eventually(async () => ((await dtmStatus(gid)) === 'failed' ? true : undefined), 15_000, `${gid} failed`);
    expect(await balances()).toEqual(before);
  });
});

describe('raw calls to trans, as dtm or anyone on the network makes them', () => {
  const bytes = (Amount: bigint, UserID: bigint) => AdjustInfo.encode({ Amount, UserID }).finish();

  test('a negative amount answers FAILURE (dtm rolls back, never retries a poison payload)', async () => {
    const before = await balances();
    const r = await rawCall(
      trans.port,
      'TransOut',
      bytes(-30n, 1n),
      dtmMetadata('saga', `raw-${randomUUID()}`, '01', 'action'),
    );
    expect(r).toMatchObject({ code: 10, details: expect.stringMatching(/Amount -30 is not positive/) });
    expect(await balances()).toEqual(before);
  });

  test('2^53+1 from a Go peer decodes exactly; above the balance it answers FAILURE, not INTERNAL', async () => {
    const before = await balances();
    const go = Buffer.from('0881808080808080101001', 'hex'); // Go's AdjustInfo{Amount: 2^53+1, UserID: 1}
    const r = await rawCall(trans.port, 'TransOut', go, dtmMetadata('saga', `raw-${randomUUID()}`, '01', 'action'));
    expect(r).toMatchObject({ code: 10, details: expect.stringMatching(/needs 9007199254740993/) });
    expect(await balances()).toEqual(before);
  });

  test('without dtm’s metadata: INVALID_ARGUMENT naming it; garbage bytes: INTERNAL; no balance changes', async () => {
    const before = await balances();
    expect(await rawCall(trans.port, 'TransIn', bytes(5n, 2n))).toMatchObject({
      code: 3,
      details: expect.stringMatching(/dtm-trans_type, dtm-gid, dtm-branch_id, dtm-op missing.*called by dtm/),
    });
    const garbage = Buffer.from('ff ff ff ff ff'.replaceAll(' ', ''), 'hex');
    const r = await rawCall(trans.port, 'TransIn', garbage, dtmMetadata('saga', `raw-${randomUUID()}`, '02', 'action'));
    expect(r.code).toBe(13);
    expect(await balances()).toEqual(before);
  });

  test('a row lock held elsewhere: trans answers within dtm’s 3 s request timeout, and a retry then succeeds', async () => {
    const c = await createConnection({ ...db.server });
    const gid = `lock-${randomUUID()}`;
    try {
      await c.query('START TRANSACTION');
      await c.query(`SELECT balance FROM ${DSN_DB}.user_account WHERE user_id = 1 FOR UPDATE`);
      const md = () => dtmMetadata('saga', gid, '01', 'action');
      const r = await rawCall(trans.port, 'TransOut', bytes(3n, 1n), md(), 10_000);
      expect(r.code).not.toBe(0);
      expect(r.code).not.toBe(10); // not FAILURE: dtm must retry it later
      expect(r.ms).toBeLessThan(3000);
      await c.query('ROLLBACK');
      const before = await balances();
      expect((await rawCall(trans.port, 'TransOut', bytes(3n, 1n), md())).code).toBe(0);
      expect((await balances())[0]).toBe(before[0] - 3n);
      // the barrier keeps a repeated delivery from debiting twice
      expect((await rawCall(trans.port, 'TransOut', bytes(3n, 1n), md())).code).toBe(0);
      expect((await balances())[0]).toBe(before[0] - 3n);
    } finally {
      await c.end();
    }
  });

  test('XA phase 1 on a locked row answers within dtm’s request timeout too', async () => {
    const c = await createConnection({ ...db.server });
    try {
      await c.query('START TRANSACTION');
      await c.query(`SELECT balance FROM ${DSN_DB}.user_account WHERE user_id = 2 FOR UPDATE`);
      const md = dtmMetadata('xa', `lock-${randomUUID()}`, '01', 'action');
      md.set('dtm-phase2_url', `${target}/trans.TransSvc/TransInXa`);
      const r = await rawCall(trans.port, 'TransInXa', bytes(3n, 2n), md);
      expect(r).toMatchObject({ code: 2, details: expect.stringMatching(/Lock wait timeout/) });
      expect(r.ms).toBeLessThan(3000);
    } finally {
      await c.query('ROLLBACK');
      await c.end();
    }
  });
});
