// Issue #16: no payload any client can send leaves a transaction unfinished, strands money, or reports success with
// none moved — through the real dtm, against trans as the bank on the suite's MariaDB (a database of this file's
// own). Each transaction here is built with the library directly, as any client could, payloads the app's own
// checks would have refused included.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Bank } from '@dtm-gozero/bank';
import { eventually, freePort, type Proc, root, runNode, TRANS, tempFile } from '@dtm-gozero/devkit';
import { DTM_GRPC, dtmForceStop, dtmQuery, dtmStatus } from '@dtm-gozero/devkit/dtm';
import { appConfig, runApp, testDatabases, testStack } from '@dtm-gozero/devkit/stack';
import {
  DtmError,
  DtmFailure,
  DtmRolledBack,
  DtmUnfinished,
  genGid,
  MsgGrpc,
  SagaGrpc,
  tccGlobalTransaction,
  xaGlobalTransaction,
} from '@dtm-gozero/dtmgrpc';
import { AdjustInfo, TransSvcService as Svc } from '@dtm-gozero/proto/trans';
import { Client, credentials, Metadata, type ServiceError, status } from '@grpc/grpc-js';
import { createConnection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { bankOf, startBankTrans } from '../support/bank-fixture.ts';

const MAX = 2n ** 63n - 1n;
const adjustBytes = (Amount: bigint, UserID: bigint): Uint8Array => AdjustInfo.encode({ Amount, UserID }).finish();
/** How long a refused transaction may take to reach `failed` (dtm's first pass with waitResult, plus a retry). */
const FINAL_MS = 25_000;

let trans: { proc: Proc; port: number; config: string };
let bank: Bank;
let busi: string;
let dsn: string;
let key: string;
// Each test takes accounts of its own, so that the cases never share a balance.
let nextUser = 1000n;
const account = async (balance: bigint): Promise<bigint> => {
  nextUser += 1n;
  await bank.setBalances([[nextUser, balance]]);
  return nextUser;
};
const balanceOf = async (u: bigint): Promise<bigint | undefined> => (await bank.balances()).get(u);

beforeAll(async () => {
  const { mysql } = testDatabases();
  dsn = `${mysql.user}:${mysql.password}@tcp(${mysql.host}:${mysql.port})/poison_${randomUUID().slice(0, 8)}`;
  key = `trans-poison-${randomUUID().slice(0, 8)}`;
  trans = await startBankTrans(key, dsn);
  bank = bankOf(dsn);
  busi = `127.0.0.1:${trans.port}`;
}, 60_000);

afterAll(async () => {
  trans?.proc.kill('SIGTERM');
  await trans?.proc.exited(10_000).catch(() => undefined);
  await bank?.close();
});

const finalStatus = (gid: string): Promise<string> =>
  eventually(
    async () => {
      const s = await dtmStatus(gid);
      return s === 'succeed' || s === 'failed' ? s : undefined;
    },
    FINAL_MS,
    `transaction ${gid} final`,
  );

type Mode = 'saga' | 'tcc' | 'xa';
/** One transfer from `from` to `to` in `mode`, with the payloads as given (no client-side check). */
async function transfer(mode: Mode, out: AdjustInfo, in_: AdjustInfo): Promise<string> {
  const gid = await genGid(DTM_GRPC);
  const run = async (): Promise<void> => {
    if (mode === 'saga') {
      const s = new SagaGrpc(DTM_GRPC, gid)
        .add(busi, { action: Svc.transOut, compensate: Svc.transOutRevert }, out)
        .add(busi, { action: Svc.transIn, compensate: Svc.transInRevert }, in_);
      s.options.waitResult = true;
      await s.submit();
    } else if (mode === 'tcc') {
      await tccGlobalTransaction(DTM_GRPC, gid, async (t) => {
        t.options.waitResult = true;
        await t.callBranch(busi, { try: Svc.transOut, confirm: Svc.transOutConfirm, cancel: Svc.transOutRevert }, out);
        await t.callBranch(busi, { try: Svc.transIn, confirm: Svc.transInConfirm, cancel: Svc.transInRevert }, in_);
      });
    } else {
      await xaGlobalTransaction(DTM_GRPC, gid, async (x) => {
        x.options.waitResult = true;
        await x.callBranch(busi, Svc.transOutXa, out);
        await x.callBranch(busi, Svc.transInXa, in_);
      });
    }
  };
  // A refusal is the expected answer here; what counts is dtm's final status and the balances.
  await run().catch((err: unknown) => {
    if (!(err instanceof DtmError)) throw err;
  });
  return gid;
}

describe('every refused payload, every mode: dtm ends the transaction failed, no balance moves', () => {
  const bad: [name: string, out: (a: bigint, b: bigint) => [AdjustInfo, AdjustInfo]][] = [
    [
      'amount 0',
      (a, b) => [
        { Amount: 0n, UserID: a },
        { Amount: 0n, UserID: b },
      ],
    ],
    [
      'negative amount',
      (a, b) => [
        { Amount: -5n, UserID: a },
        { Amount: -5n, UserID: b },
      ],
    ],
    [
      'TransIn amount 0 only',
      (a, b) => [
        { Amount: 30n, UserID: a },
        { Amount: 0n, UserID: b },
      ],
    ],
    [
      'unknown payee',
      (a) => [
        { Amount: 30n, UserID: a },
        { Amount: 30n, UserID: 987_654_321n },
      ],
    ],
    // an id past int64 arrives as its two's complement: negative
    [
      'payee id beyond int64',
      (a) => [
        { Amount: 30n, UserID: a },
        { Amount: 30n, UserID: -(2n ** 63n) },
      ],
    ],
    [
      'credit past 2^63-1',
      (a) => [
        { Amount: 30n, UserID: a },
        { Amount: 30n, UserID: 0n },
      ],
    ],
  ];
  for (const mode of ['saga', 'tcc', 'xa'] as const) {
    test.each(bad)(`${mode}: %s`, { timeout: 60_000 }, async (name, payloads) => {
      const payer = await account(1000n);
      const payee = await account(name === 'credit past 2^63-1' ? MAX - 10n : 1000n);
      let [out, in_] = payloads(payer, payee);
      if (in_.UserID === 0n) in_ = { ...in_, UserID: payee };
      const gid = await transfer(mode, out, in_);
      expect(await finalStatus(gid)).toBe('failed');
      expect(await balanceOf(payer)).toBe(1000n);
      expect(await balanceOf(payee)).toBe(name === 'credit past 2^63-1' ? MAX - 10n : 1000n);
      // a debit taken back by its compensation leaves two ledger rows; their sum is what moved: nothing
      expect((await bank.ledger([gid])).reduce((sum, r) => sum + r.delta, 0n)).toBe(0n);
    });
  }
});

test('msg: a payee that cannot take the credit is refused at the local step; the message fails, nothing moves', {
  timeout: 60_000,
}, async () => {
  const payer = await account(1000n);
  const payee = await account(MAX - 10n);
  const p = runApp([
    'transfer',
    '-f',
    appConfig(key),
    '--bank',
    trans.config,
    '--from',
    String(payer),
    '--to',
    String(payee),
    '--amount',
    '30',
    '--mode',
    'msg',
  ]);
  expect(await p.exited(30_000)).not.toBe(0);
  expect(p.stderr()).toMatch(new RegExp(`account ${payee} holds \\d+; crediting 30 would pass the largest balance`));
  expect(await balanceOf(payer)).toBe(1000n);
  expect(await balanceOf(payee)).toBe(MAX - 10n);
});

test('msg branch that can never apply: trans answers a retriable error, logs one line naming gid, branch, op; forceStop ends it', {
  timeout: 60_000,
}, async () => {
  const payee = await account(1000n);
  const gid = await genGid(DTM_GRPC);
  const m = new MsgGrpc(DTM_GRPC, gid).add(busi, Svc.transIn, { Amount: 0n, UserID: payee });
  await m.submit();
  const line = await eventually(
    async () =>
      trans.proc
        .stderr()
        .split('\n')
        .find((l) => l.includes('cannot succeed') && l.includes(gid)),
    20_000,
    'the error line',
  );
  expect(line).toMatch(
    new RegExp(`ERROR dtm branch cannot succeed: gid=${gid} branch=01 op=action trans_type=msg reason=".*Amount 0`),
  );
  // Not FAILURE: dtm keeps it (a msg branch is retried until it succeeds); the operator ends it.
  expect(await dtmStatus(gid)).toBe('submitted');
  await dtmForceStop(gid);
  expect(await dtmStatus(gid)).toBe('failed');
  expect(await balanceOf(payee)).toBe(1000n);
});

test('saga whose action is refused: the compensations are no-ops that succeed (barrier before validation)', {
  timeout: 60_000,
}, async () => {
  const payer = await account(1000n);
  const gid = await transfer('saga', { Amount: 0n, UserID: payer }, { Amount: 0n, UserID: payer });
  expect(await finalStatus(gid)).toBe('failed');
  const t = await dtmQuery(gid);
  // dtm compensates each step whose action it called (the refused one included); each answered success
  const ran = t.branches.filter((b) => b.op === 'compensate' && b.status !== 'prepared').map((b) => b.status);
  expect(ran.length).toBeGreaterThan(0);
  expect(ran.every((st) => st === 'succeed')).toBe(true);
});

/** A raw unary call with bytes in and out; resolves with the status. */
function raw(port: number, path: string, body: Buffer, md = new Metadata(), ms = 5000): Promise<ServiceError | null> {
  const c = new Client(`127.0.0.1:${port}`, credentials.createInsecure());
  return new Promise((resolve) => {
    c.makeUnaryRequest(
      path,
      (b: Buffer) => b,
      (b: Buffer) => b,
      body,
      md,
      { deadline: Date.now() + ms },
      (err) => {
        c.close();
        resolve(err);
      },
    );
  });
}

test('health: a body of one byte 0x80 (a truncated varint) is refused at once, and trans stays healthy', async () => {
  const started = Date.now();
  const err = await raw(trans.port, '/grpc.health.v1.Health/Check', Buffer.from([0x80]));
  expect(err?.code).toBe(status.INTERNAL);
  expect(Date.now() - started).toBeLessThan(3000);
  // the next well-formed check answers SERVING (field 1 = 1)
  expect(await raw(trans.port, '/grpc.health.v1.Health/Check', Buffer.alloc(0))).toBe(null);
});

test('trans with `MySQL:` / `datasource:` (keys in any case) is the bank: a transfer moves money', {
  timeout: 60_000,
}, async () => {
  const port = await freePort();
  const key = `trans-case-${randomUUID().slice(0, 8)}`;
  const hosts = testStack()
    .etcdEndpoints.map((h) => `    - ${h}\n`)
    .join('');
  const config = tempFile(
    'trans.yaml',
    `Name: trans.rpc\nListenOn: 127.0.0.1:${port}\nEtcd:\n  Hosts:\n${hosts}  Key: ${key}\nMySQL:\n  datasource: ${dsn}\n`,
  );
  const p = runNode(TRANS, ['-f', config], join(root, 'apps/trans'));
  try {
    await p.waitFor(/Starting rpc server at/, 30_000);
    const payer = await account(1000n);
    const payee = await account(1000n);
    const gid = await genGid(DTM_GRPC);
    const s = new SagaGrpc(DTM_GRPC, gid)
      .add(
        `127.0.0.1:${port}`,
        { action: Svc.transOut, compensate: Svc.transOutRevert },
        { Amount: 30n, UserID: payer },
      )
      .add(`127.0.0.1:${port}`, { action: Svc.transIn, compensate: Svc.transInRevert }, { Amount: 30n, UserID: payee });
    s.options.waitResult = true;
    await s.submit();
    expect(await finalStatus(gid)).toBe('succeed');
    expect([await balanceOf(payer), await balanceOf(payee)]).toEqual([970n, 1030n]);
    expect(p.stderr()).toMatch(/the bank keeps its balances in/);
  } finally {
    p.kill('SIGTERM');
    await p.exited(10_000).catch(() => undefined);
  }
});

describe("a global transaction's error says what happened, with its gid", () => {
  test('saga refused by a branch: DtmRolledBack (a DtmFailure) carrying the gid; dtm ends it failed', {
    timeout: 60_000,
  }, async () => {
    const payer = await account(1000n);
    const gid = await genGid(DTM_GRPC);
    const s = new SagaGrpc(DTM_GRPC, gid)
      .add(busi, { action: Svc.transOut, compensate: Svc.transOutRevert }, { Amount: 30n, UserID: payer })
      .add(busi, { action: Svc.transIn, compensate: Svc.transInRevert }, { Amount: 30n, UserID: 987_654_321n });
    s.options.waitResult = true;
    const err = await s.submit().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DtmRolledBack);
    expect(err).toBeInstanceOf(DtmFailure);
    expect((err as DtmRolledBack).gid).toBe(gid);
    expect((err as Error).message).toContain(gid);
    expect(await finalStatus(gid)).toBe('failed');
  });

  test('tcc whose try is refused: DtmRolledBack carrying the gid', { timeout: 60_000 }, async () => {
    const payer = await account(1000n);
    const gid = await genGid(DTM_GRPC);
    const err = await tccGlobalTransaction(DTM_GRPC, gid, async (t) => {
      await t.callBranch(
        busi,
        { try: Svc.transOut, confirm: Svc.transOutConfirm, cancel: Svc.transOutRevert },
        {
          Amount: 5000n,
          UserID: payer,
        },
      );
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DtmRolledBack);
    expect((err as DtmRolledBack).gid).toBe(gid);
    expect((err as Error).message).toMatch(/insufficient funds/);
  });

  test('saga whose branch cannot be reached yet: DtmUnfinished (not a DtmFailure) with the gid and what dtm said', {
    timeout: 60_000,
  }, async () => {
    const payer = await account(1000n);
    const gid = await genGid(DTM_GRPC);
    const dead = `127.0.0.1:${await freePort()}`;
    const s = new SagaGrpc(DTM_GRPC, gid)
      .add(busi, { action: Svc.transOut, compensate: Svc.transOutRevert }, { Amount: 30n, UserID: payer })
      .add(dead, { action: Svc.transIn, compensate: Svc.transInRevert }, { Amount: 30n, UserID: payer });
    s.options.waitResult = true;
    try {
      const err = await s.submit().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(DtmUnfinished);
      expect(err).not.toBeInstanceOf(DtmFailure);
      expect((err as DtmUnfinished).gid).toBe(gid);
      expect((err as DtmUnfinished).dtmSaid).not.toBe('');
      expect((err as Error).message).toMatch(new RegExp(`saga ${gid} not finished: dtm keeps it`));
      expect(await dtmStatus(gid)).toBe('submitted');
    } finally {
      await dtmForceStop(gid);
    }
  });

  test('a call without dtm metadata: INVALID_ARGUMENT, and trans logs it before answering', async () => {
    const err = await raw(trans.port, '/trans.TransSvc/TransOut', Buffer.alloc(0));
    expect(err?.code).toBe(status.INVALID_ARGUMENT);
    await eventually(
      async () =>
        /dtm branch error: gid=- branch=- op=- .*invalid trans info/.test(trans.proc.stderr()) ? true : undefined,
      5000,
      'the log line',
    );
  });
});

test('a statement that outlives its timeout is killed on the server, not left holding its place', {
  timeout: 60_000,
}, async () => {
  const { mysql } = testDatabases();
  const db = /\/(poison_\w+)/.exec(dsn)?.[1] as string;
  const c = await createConnection({ ...mysql });
  const payer = await account(1000n);
  try {
    // a metadata lock: the UPDATE waits for it with no server-side bound (innodb_lock_wait_timeout does not apply)
    await c.query(`LOCK TABLES ${db}.user_account WRITE`);
    const md = new Metadata();
    for (const [k, v] of Object.entries({
      trans_type: 'saga',
      gid: `kill-${randomUUID()}`,
      branch_id: '01',
      op: 'action',
    }))
      md.set(`dtm-${k}`, v);
    const err = await raw(trans.port, '/trans.TransSvc/TransOut', Buffer.from(adjustBytes(30n, payer)), md, 10_000);
    expect(err?.code).not.toBe(status.ABORTED); // not FAILURE: dtm retries it
    const waiting = async (): Promise<number> => {
      const [rows] = await c.query(
        "SELECT COUNT(*) AS n FROM information_schema.processlist WHERE info LIKE 'UPDATE %user_account%' AND id <> CONNECTION_ID()",
      );
      return Number((rows as { n: number }[])[0]?.n);
    };
    await eventually(async () => ((await waiting()) === 0 ? true : undefined), 5000, 'the timed-out UPDATE killed');
  } finally {
    await c.query('UNLOCK TABLES');
    await c.end();
  }
  expect(await balanceOf(payer)).toBe(1000n);
});

test('XA phase 1 waits its own 1 s for a row lock, whatever the pooled session it gets was last set to', {
  timeout: 60_000,
}, async () => {
  const { mysql } = testDatabases();
  const db = /\/(poison_\w+)/.exec(dsn)?.[1] as string;
  const payer = await account(1000n);
  // A dtm-called barrier op sets its session's lock wait to 0; the pool hands that session out next (LIFO).
  const md = new Metadata();
  for (const [k, v] of Object.entries({
    trans_type: 'saga',
    gid: `lw-${randomUUID()}`,
    branch_id: '01',
    op: 'compensate',
  }))
    md.set(`dtm-${k}`, v);
  expect(await raw(trans.port, '/trans.TransSvc/TransOutRevert', Buffer.from(adjustBytes(5n, payer)), md)).toBe(null);
  const c = await createConnection({ ...mysql });
  try {
    await c.query('START TRANSACTION');
    await c.query(`SELECT balance FROM ${db}.user_account WHERE user_id = ? FOR UPDATE`, [String(payer)]);
    const released = new Promise((r) => setTimeout(r, 300)).then(() => c.query('ROLLBACK'));
    const gid = await genGid(DTM_GRPC);
    await xaGlobalTransaction(DTM_GRPC, gid, async (x) => {
      x.options.waitResult = true;
      await x.callBranch(busi, Svc.transOutXa, { Amount: 5n, UserID: payer });
    });
    await released;
    expect(await finalStatus(gid)).toBe('succeed');
    expect(await balanceOf(payer)).toBe(995n);
  } finally {
    await c.end();
  }
});
