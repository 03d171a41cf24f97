import { type BusiServer, startTransSvc } from '@dtm-gozero/devkit/busi';
import { dtmStatus } from '@dtm-gozero/devkit/dtm';
import { testStack } from '@dtm-gozero/devkit/stack';
import { TransSvcService } from '@dtm-gozero/proto/trans';
import { Metadata } from '@grpc/grpc-js';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { closeConnections } from './conn.ts';
import { DtmFailure } from './errors.ts';
import { tccFromGrpc, tccGlobalTransaction } from './tcc.ts';
import { genGid } from './trans-base.ts';

// Against the real dtm of the integration global setup (free ports), found through etcd as the example does.
const DTM = testStack().dtmTarget;
let busi: BusiServer;
const out = {
  try: TransSvcService.transOut,
  confirm: TransSvcService.transOutConfirm,
  cancel: TransSvcService.transOutRevert,
};
const in_ = {
  try: TransSvcService.transIn,
  confirm: TransSvcService.transInConfirm,
  cancel: TransSvcService.transInRevert,
};

beforeAll(async () => {
  busi = await startTransSvc();
});
afterAll(async () => {
  await busi.stop();
  closeConnections();
});

test('tries run here; dtm confirms every branch, last registered first', async () => {
  const gid = await genGid(DTM);
  await tccGlobalTransaction(
    DTM,
    gid,
    async (tcc) => {
      await tcc.callBranch(busi.target, out, { Amount: 30n, UserID: 1n });
      await tcc.callBranch(busi.target, in_, { Amount: 30n, UserID: 2n });
    },
    (tcc) => {
      tcc.options.waitResult = true;
    },
  );
  expect(busi.log(gid)).toEqual(['TransOut:try', 'TransIn:try', 'TransInConfirm:confirm', 'TransOutConfirm:confirm']);
  const calls = busi.calls.filter((c) => c.gid === gid);
  // The client's own try carries the dtm address; dtm's calls carry an empty one.
  expect(calls[0]).toMatchObject({ branchId: '01', dtm: DTM, amount: 30, user: 1 });
  expect(calls[2]).toMatchObject({ branchId: '02', dtm: '', amount: 30, user: 2 });
  expect(await dtmStatus(gid)).toBe('succeed');
});

test("a try carries the branch headers, which never replace dtm's keys", async () => {
  const gid = await genGid(DTM);
  await tccGlobalTransaction(
    DTM,
    gid,
    async (tcc) => {
      await tcc.callBranch(busi.target, out, { Amount: 30n, UserID: 1n });
    },
    (tcc) => {
      tcc.options.waitResult = true;
      tcc.options.branchHeaders = { 'x-tenant': 't1', 'dtm-branch_id': '99', 'DTM-OP': 'cancel' };
    },
  );
  const [try_] = busi.calls.filter((c) => c.gid === gid);
  expect(try_).toMatchObject({ branchId: '01', op: 'try', dtm: DTM, headers: { 'x-tenant': 't1' } });
});

test('a failed try aborts: dtm cancels every registered branch, the failed one included', async () => {
  busi.on('TransIn', () => {
    throw new DtmFailure('account frozen');
  });
  try {
    const gid = await genGid(DTM);
    await expect(
      tccGlobalTransaction(
        DTM,
        gid,
        async (tcc) => {
          await tcc.callBranch(busi.target, out, { Amount: 30n, UserID: 1n });
          await tcc.callBranch(busi.target, in_, { Amount: 30n, UserID: 2n });
        },
        (tcc) => {
          tcc.options.waitResult = true;
        },
      ),
    ).rejects.toBeInstanceOf(DtmFailure);
    expect(busi.log(gid)).toEqual(['TransOut:try', 'TransIn:try', 'TransInRevert:cancel', 'TransOutRevert:cancel']);
    expect(await dtmStatus(gid)).toBe('failed');
  } finally {
    busi.on('TransIn', () => undefined);
  }
});

test('nested TCC: a try calls a sub-branch through the incoming metadata; dtm confirms both', async () => {
  // TransOut's try opens a nested branch on TransIn, as a service calling another service would.
  busi.on('TransOut', async (req, call) => {
    if (call.metadata.get('dtm-op')[0] !== 'try') return;
    await tccFromGrpc(call).callBranch(busi.target, in_, { Amount: req.Amount, UserID: 2n });
  });
  try {
    const gid = await genGid(DTM);
    await tccGlobalTransaction(
      DTM,
      gid,
      async (tcc) => {
        await tcc.callBranch(busi.target, out, { Amount: 30n, UserID: 1n });
      },
      (tcc) => {
        tcc.options.waitResult = true;
      },
    );
    const calls = busi.calls.filter((c) => c.gid === gid).map((c) => `${c.method}:${c.op}:${c.branchId}`);
    expect(calls).toEqual([
      'TransOut:try:01',
      'TransIn:try:0101',
      'TransInConfirm:confirm:0101',
      'TransOutConfirm:confirm:01',
    ]);
    expect(await dtmStatus(gid)).toBe('succeed');
  } finally {
    busi.on('TransOut', () => undefined);
  }
});

test('tccFromGrpc refuses a call without dtm metadata', () => {
  expect(() => tccFromGrpc({ metadata: new Metadata() })).toThrow(/lacks gid, branchId, dtm/);
});
