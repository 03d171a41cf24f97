import { eventually } from '@dtm-gozero/devkit';
import { type BusiServer, startTransSvc } from '@dtm-gozero/devkit/busi';
import { dtmStatus } from '@dtm-gozero/devkit/dtm';
import { testDatabases, testStack } from '@dtm-gozero/devkit/stack';
import { TransSvcService } from '@dtm-gozero/proto/trans';
import { createPool, type Pool } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { barrierFromGrpc } from './barrier/barrier.ts';
import { closeConnections } from './conn.ts';
import { DtmFailure } from './errors.ts';
import { MsgGrpc } from './msg.ts';
import { genGid, localGid } from './trans-base.ts';

// Against the real dtm of the integration global setup (free ports), reached directly and through etcd.
const DTM = testStack().dtmGrpc;
const DTM_ETCD = testStack().dtmTarget;
let busi: BusiServer;
const r1 = { Amount: 30n, UserID: 1n };
const r2 = { Amount: 30n, UserID: 2n };
const finalStatus = (gid: string) =>
  eventually(
    async () => {
      const s = await dtmStatus(gid);
      return s === 'succeed' || s === 'failed' ? s : undefined;
    },
    20_000,
    `final status of ${gid}`,
  );

beforeAll(async () => {
  busi = await startTransSvc();
});
afterAll(async () => {
  await busi.stop();
  closeConnections();
});

function newMsg(gid: string, dtm = DTM): MsgGrpc {
  return new MsgGrpc(dtm, gid)
    .add(busi.target, TransSvcService.transOut, r1)
    .add(busi.target, TransSvcService.transIn, r2);
}

describe('msg', () => {
  test('submit: dtm calls the branches in order, with the payloads and metadata of the protocol', async () => {
    const gid = await genGid(DTM_ETCD);
    const m = newMsg(gid, DTM_ETCD);
    m.options.waitResult = true;
    await m.submit();
    expect(busi.log(gid)).toEqual(['TransOut:action', 'TransIn:action']);
    const [out, in_] = busi.calls.filter((c) => c.gid === gid);
    expect(out).toMatchObject({ branchId: '01', amount: 30, user: 1, dtm: '', headers: { 'dtm-trans_type': 'msg' } });
    expect(in_).toMatchObject({ branchId: '02', amount: 30, user: 2 });
    expect(await dtmStatus(gid)).toBe('succeed');
  });

  test('a gid made locally (localGid, no NewGid call) is taken by dtm like its own, and a second submit with it is refused', async () => {
    const gid = localGid();
    const m = newMsg(gid, DTM_ETCD);
    m.options.waitResult = true;
    await m.submit();
    expect(busi.log(gid)).toEqual(['TransOut:action', 'TransIn:action']);
    expect(await dtmStatus(gid)).toBe('succeed');
    // dtm keys transactions by gid: the same gid with another payload is not a new transaction.
    const again = new MsgGrpc(DTM_ETCD, gid).add(busi.target, TransSvcService.transOut, { Amount: 1n, UserID: 1n });
    await again.submit().catch(() => undefined);
    expect(busi.log(gid)).toEqual(['TransOut:action', 'TransIn:action']);
  });

  test('doAndSubmit: prepare, local step, submit', async () => {
    const gid = await genGid(DTM);
    let ranBeforeBranches = false;
    const m = newMsg(gid);
    m.options.waitResult = true;
    await m.doAndSubmit(`${busi.target}${TransSvcService.queryPrepared.path}`, async () => {
      ranBeforeBranches = busi.log(gid).length === 0;
    });
    expect(ranBeforeBranches).toBe(true);
    expect(busi.log(gid)).toEqual(['TransOut:action', 'TransIn:action']);
    expect(await dtmStatus(gid)).toBe('succeed');
  });

  test('doAndSubmit: a FAILURE in the local step aborts; no branch is called', async () => {
    const gid = await genGid(DTM);
    await expect(
      newMsg(gid).doAndSubmit(`${busi.target}${TransSvcService.queryPrepared.path}`, async () => {
        throw new DtmFailure('no money');
      }),
    ).rejects.toThrow('no money');
    expect(await finalStatus(gid)).toBe('failed');
    expect(busi.log(gid)).toEqual([]);
  });

  test('doAndSubmit: an unknown local outcome is settled by asking QueryPrepared at once', async () => {
    busi.on('QueryPrepared', () => {
      throw new DtmFailure();
    });
    try {
      const gid = await genGid(DTM);
      await expect(
        newMsg(gid).doAndSubmit(`${busi.target}${TransSvcService.queryPrepared.path}`, async () => {
          throw new Error('connection lost');
        }),
      ).rejects.toThrow('connection lost');
      expect(busi.log(gid)).toEqual(['QueryPrepared:msg']);
      expect(await finalStatus(gid)).toBe('failed');
    } finally {
      busi.on('QueryPrepared', () => undefined);
    }
  });

  test("doAndSubmit's own QueryPrepared call carries the branch headers, under dtm's keys", async () => {
    const gid = await genGid(DTM);
    const m = newMsg(gid);
    // A branch header may not replace a dtm key: the back-check must still name this gid and op.
    m.options.branchHeaders = { 'x-tenant': 't1', 'dtm-gid': 'someone-else', 'Dtm-Op': 'try' };
    await expect(
      m.doAndSubmit(`${busi.target}${TransSvcService.queryPrepared.path}`, async () => {
        throw new Error('connection lost');
      }),
    ).rejects.toThrow('connection lost');
    const qp = busi.calls.find((c) => c.gid === gid && c.method === 'QueryPrepared');
    expect(qp).toMatchObject({ branchId: '00', op: 'msg', dtm: DTM, headers: { 'x-tenant': 't1' } });
    m.options.branchHeaders = {};
  });

  test('a prepared message left alone is back-checked by dtm and then delivered', { timeout: 40_000 }, async () => {
    const gid = await genGid(DTM);
    const m = newMsg(gid);
    m.options.timeoutToFail = 1; // dtm back-checks a prepared msg once it is older than this
    await m.prepare(`${busi.target}${TransSvcService.queryPrepared.path}`);
    // The app "dies" here: no Submit. dtm asks QueryPrepared (OK) and then runs the branches.
    expect(await finalStatus(gid)).toBe('succeed');
    expect(busi.log(gid)).toEqual(['QueryPrepared:msg', 'TransOut:action', 'TransIn:action']);
  });

  test('input errors are refused before anything is sent', async () => {
    await expect(new MsgGrpc(DTM, 'x').submit()).rejects.toThrow(/no branches/);
    await expect(newMsg('x').doAndSubmit('not a url', async () => undefined)).rejects.toThrow(/has no method path/);
  });
});

describe('msg with a database: doAndSubmitDB + barrier QueryPrepared (MariaDB)', () => {
  let pool: Pool;
  beforeAll(async () => {
    pool = createPool({ uri: testDatabases().mysqlUrl, connectionLimit: 3 });
    await pool.query('CREATE DATABASE IF NOT EXISTS dtm_busi');
    await pool.query('CREATE TABLE IF NOT EXISTS dtm_busi.msg_test (gid VARCHAR(128) PRIMARY KEY, amount BIGINT)');
    busi.on('QueryPrepared', async (_req, call) => barrierFromGrpc(call).queryPreparedMysql(pool));
  }, 120_000);
  afterAll(async () => {
    busi.on('QueryPrepared', () => undefined);
    await pool?.end();
  });
  const row = async (gid: string) => {
    const [rows] = await pool.query('SELECT amount FROM dtm_busi.msg_test WHERE gid = ?', [gid]);
    return (rows as { amount: number }[])[0]?.amount;
  };

  test('the local transaction commits, then dtm delivers the message', async () => {
    const gid = await genGid(DTM);
    const m = newMsg(gid);
    m.options.waitResult = true;
    await m.doAndSubmitDB(`${busi.target}${TransSvcService.queryPrepared.path}`, { mysql: pool }, async (tx) => {
      await tx.query('INSERT INTO dtm_busi.msg_test (gid, amount) VALUES (?, 30)', [gid]);
    });
    expect(await row(gid)).toBe(30);
    expect(busi.log(gid)).toEqual(['TransOut:action', 'TransIn:action']);
    expect(await dtmStatus(gid)).toBe('succeed');
  });

  test('a failing local transaction rolls back and the message fails', async () => {
    const gid = await genGid(DTM);
    await expect(
      newMsg(gid).doAndSubmitDB(`${busi.target}${TransSvcService.queryPrepared.path}`, { mysql: pool }, async (tx) => {
        await tx.query('INSERT INTO dtm_busi.msg_test (gid, amount) VALUES (?, 30)', [gid]);
        throw new DtmFailure('insufficient balance');
      }),
    ).rejects.toThrow('insufficient balance');
    expect(await row(gid)).toBeUndefined();
    expect(await finalStatus(gid)).toBe('failed');
    expect(busi.log(gid)).toEqual([]);
  });

  test('dtm’s back-check reads the barrier: committed → delivered, never committed → failed', {
    timeout: 60_000,
  }, async () => {
    const committed = await genGid(DTM);
    const lost = await genGid(DTM);
    for (const gid of [committed, lost]) {
      const m = newMsg(gid);
      m.options.timeoutToFail = 1;
      await m.prepare(`${busi.target}${TransSvcService.queryPrepared.path}`);
    }
    // Only `committed` runs its local transaction (with the barrier row); both apps then "die" before Submit.
    const { BranchBarrier } = await import('./barrier/barrier.ts');
    await new BranchBarrier('msg', committed, '00', 'msg').callWithMysql(pool, async (tx) => {
      await tx.query('INSERT INTO dtm_busi.msg_test (gid, amount) VALUES (?, 30)', [committed]);
    });
    expect(await finalStatus(committed)).toBe('succeed');
    expect(await finalStatus(lost)).toBe('failed');
    expect(busi.log(committed)).toEqual(['QueryPrepared:msg', 'TransOut:action', 'TransIn:action']);
    expect(busi.log(lost)).toEqual(['QueryPrepared:msg']);
  });
});
