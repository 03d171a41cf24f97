import { type BusiServer, startBusiServer } from '@dtm-gozero/devkit/busi';
import { DTM_ETCD, DTM_GRPC, dtmOptions, dtmQuery, finalTrans } from '@dtm-gozero/devkit/dtm';
import { AdjustInfo, TransSvcService } from '@dtm-gozero/proto/trans';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { closeConnections } from './conn.ts';
import { DtmFailure } from './errors.ts';
import { SagaGrpc } from './saga.ts';
import { genGid } from './trans-base.ts';

// Against the real dtm (go-zero driver) of the integration global setup; dtm calls an in-process busi.Busi service directly (and
// a trans.TransSvc one, for the generated descriptors). What the client sent is read back from dtm's query API.
let busi: BusiServer;
let trans: BusiServer;
const r1 = { Amount: 30n, UserID: 1n };
const r2 = { Amount: 30n, UserID: 2n };
const b64 = (req: AdjustInfo) => Buffer.from(AdjustInfo.encode(req).finish()).toString('base64');
const out = () => ({ action: busi.method('TransOut'), compensate: busi.method('TransOutRevert') });
const in_ = () => ({ action: busi.method('TransIn'), compensate: busi.method('TransInRevert') });
const step = (i: number) => ({ action: busi.method(`Step${i}`), compensate: busi.method(`Step${i}Revert`) });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  busi = await startBusiServer([
    'TransOut',
    'TransOutRevert',
    'TransIn',
    'TransInRevert',
    ...[0, 1, 2].flatMap((i) => [`Step${i}`, `Step${i}Revert`]),
  ]);
  trans = await startBusiServer(['TransOut', 'TransIn', 'TransInRevert'], 'trans.TransSvc');
});
afterAll(async () => {
  await busi?.stop();
  await trans?.stop();
  closeConnections();
});

describe('saga against the real dtm', () => {
  test('success: dtm stores the steps, payloads and options sent, and runs both actions in order with them', async () => {
    const gid = await genGid(DTM_ETCD);
    const s = new SagaGrpc(DTM_ETCD, gid).add(busi.target, out(), r1).add(busi.target, in_(), r2);
    s.options = {
      waitResult: true,
      timeoutToFail: 60,
      retryInterval: 5,
      branchHeaders: { 'x-tenant': 't1' },
      requestTimeout: 4,
      retryLimit: 2,
    };
    await s.submit();
    expect(busi.log(gid, true)).toEqual(['TransOut:action:01', 'TransIn:action:02']);
    const calls = busi.calls.filter((c) => c.gid === gid);
    expect(calls[0]).toMatchObject({ transType: 'saga', dtm: '', amount: 30, user: 1 });
    expect(calls[1]).toMatchObject({ transType: 'saga', amount: 30, user: 2 });
    // dtm passes the branch headers on to every branch call
    expect(calls.map((c) => c.headers['x-tenant'])).toEqual(['t1', 't1']);
    const t = await finalTrans(gid);
    expect(t.transaction).toMatchObject({ trans_type: 'saga', status: 'succeed' });
    expect(t.transaction?.steps).toEqual([
      { action: busi.url('TransOut'), compensate: busi.url('TransOutRevert') },
      { action: busi.url('TransIn'), compensate: busi.url('TransInRevert') },
    ]);
    expect(t.transaction?.custom_data ?? '').toBe(''); // sequential: no CustomedData
    expect(t.transaction?.query_prepared ?? '').toBe('');
    expect(dtmOptions(t)).toMatchObject({
      wait_result: true,
      timeout_to_fail: 60,
      retry_interval: 5,
      branch_headers: { 'x-tenant': 't1' },
      request_timeout: 4,
      retry_limit: 2,
    });
    // each step's payload, stored for both its action and its compensation
    expect(t.branches.map((b) => [b.branch_id, b.op, b.url, b.bin_data])).toEqual([
      ['01', 'compensate', busi.url('TransOutRevert'), b64(r1)],
      ['01', 'action', busi.url('TransOut'), b64(r1)],
      ['02', 'compensate', busi.url('TransInRevert'), b64(r2)],
      ['02', 'action', busi.url('TransIn'), b64(r2)],
    ]);
  });

  test('Go-style URLs and bytes; an empty compensate URL is stored as no compensation', async () => {
    const gid = await genGid(DTM_GRPC);
    const bytes = AdjustInfo.encode({ Amount: 7n, UserID: 3n }).finish();
    const s = new SagaGrpc(DTM_GRPC, gid).add(busi.url('TransOut'), '', bytes);
    s.options.waitResult = true;
    await s.submit();
    const t = await finalTrans(gid);
    expect(t.transaction?.status).toBe('succeed');
    expect(t.transaction?.steps).toEqual([{ action: busi.url('TransOut'), compensate: '' }]);
    expect(t.branches.map((b) => [b.branch_id, b.op, b.url ?? '', b.bin_data])).toEqual([
      ['01', 'compensate', '', Buffer.from(bytes).toString('base64')],
      ['01', 'action', busi.url('TransOut'), Buffer.from(bytes).toString('base64')],
    ]);
    expect(busi.calls.filter((c) => c.gid === gid).map((c) => [c.method, c.op, c.amount, c.user])).toEqual([
      ['TransOut', 'action', 7, 3],
    ]);
  });

  test('generated TransSvc descriptors; a step without compensate is skipped when rolling back', async () => {
    const gid = await genGid(DTM_GRPC);
    trans.on(
      'TransIn',
      () => {
        throw new DtmFailure('account frozen');
      },
      gid,
    );
    const s = new SagaGrpc(DTM_GRPC, gid)
      .add(trans.target, { action: TransSvcService.transOut }, r1)
      .add(trans.target, { action: TransSvcService.transIn, compensate: TransSvcService.transInRevert }, r2);
    s.options.waitResult = true;
    await expect(s.submit()).rejects.toBeInstanceOf(DtmFailure);
    const t = await finalTrans(gid);
    expect(t.transaction?.status).toBe('failed');
    expect(t.transaction?.steps).toEqual([
      { action: `${trans.target}/trans.TransSvc/TransOut`, compensate: '' },
      { action: `${trans.target}/trans.TransSvc/TransIn`, compensate: `${trans.target}/trans.TransSvc/TransInRevert` },
    ]);
    expect(trans.log(gid)).toEqual(['TransOut:action', 'TransIn:action', 'TransInRevert:compensate']);
    expect(trans.calls.filter((c) => c.gid === gid).map((c) => c.user)).toEqual([1, 2, 2]);
  });

  test('rollback: the second action answers FAILURE → compensations in reverse, the failed step’s included', async () => {
    const gid = await genGid(DTM_GRPC);
    busi.on(
      'TransIn',
      () => {
        throw new DtmFailure('insufficient balance');
      },
      gid,
    );
    const s = new SagaGrpc(DTM_GRPC, gid).add(busi.target, out(), r1).add(busi.target, in_(), r2);
    s.options.waitResult = true;
    // With waitResult dtm answers the pass's outcome: the saga did not succeed → FAILURE.
    await expect(s.submit()).rejects.toBeInstanceOf(DtmFailure);
    const t = await finalTrans(gid);
    expect(t.transaction?.status).toBe('failed');
    expect(t.transaction?.rollback_reason).toMatch(/insufficient balance/);
    expect(busi.log(gid)).toEqual([
      'TransOut:action',
      'TransIn:action',
      'TransInRevert:compensate',
      'TransOutRevert:compensate',
    ]);
    // the compensations get the step's own payload
    const comp = busi.calls.filter((c) => c.gid === gid && c.op === 'compensate');
    expect(comp.map((c) => [c.branchId, c.user])).toEqual([
      ['02', 2],
      ['01', 1],
    ]);
  });

  test('without waitResult: Submit returns at once, dtm finishes in the background', async () => {
    const gid = await genGid(DTM_GRPC);
    await new SagaGrpc(DTM_GRPC, gid).add(busi.target, out(), r1).add(busi.target, in_(), r2).submit();
    expect((await finalTrans(gid)).transaction?.status).toBe('succeed');
    expect(busi.log(gid)).toEqual(['TransOut:action', 'TransIn:action']);
  });

  test('concurrent with orders: steps 0 and 1 overlap, step 2 starts after both succeeded', async () => {
    const gid = await genGid(DTM_GRPC);
    const times: Record<string, [number, number]> = {};
    for (const i of [0, 1, 2]) {
      busi.on(
        `Step${i}`,
        async () => {
          const start = Date.now();
          await sleep(400);
          times[`Step${i}`] = [start, Date.now()];
        },
        gid,
      );
    }
    const s = new SagaGrpc(DTM_GRPC, gid)
      .add(busi.target, step(0), r1)
      .add(busi.target, step(1), r1)
      .add(busi.target, step(2), r2)
      .enableConcurrent()
      .addBranchOrder(2, [0, 1]);
    s.options.waitResult = true;
    await s.submit();
    const t = await finalTrans(gid);
    expect(t.transaction?.status).toBe('succeed');
    expect(JSON.parse(t.transaction?.custom_data ?? '{}')).toEqual({ concurrent: true, orders: { '2': [0, 1] } });
    const [s0, s1, s2] = [times.Step0!, times.Step1!, times.Step2!];
    expect(Math.max(s0[0], s1[0])).toBeLessThan(Math.min(s0[1], s1[1])); // ran at the same time
    expect(s2[0]).toBeGreaterThanOrEqual(Math.max(s0[1], s1[1])); // after both
    expect(busi.log(gid).slice(2)).toEqual(['Step2:action']);
    expect(t.branches.filter((b) => b.op === 'action').map((b) => [b.branch_id, b.url, b.bin_data])).toEqual([
      ['01', busi.url('Step0'), b64(r1)],
      ['02', busi.url('Step1'), b64(r1)],
      ['03', busi.url('Step2'), b64(r2)],
    ]);
  });

  test('concurrent without orders: CustomedData {"concurrent":true,"orders":{}}, both actions at once', async () => {
    const gid = await genGid(DTM_GRPC);
    const times: Record<string, [number, number]> = {};
    for (const i of [0, 1]) {
      busi.on(
        `Step${i}`,
        async () => {
          const start = Date.now();
          await sleep(400);
          times[`Step${i}`] = [start, Date.now()];
        },
        gid,
      );
    }
    const s = new SagaGrpc(DTM_GRPC, gid)
      .add(busi.target, step(0), r1)
      .add(busi.target, step(1), r2)
      .enableConcurrent();
    s.options.waitResult = true;
    await s.submit();
    const t = await finalTrans(gid);
    expect(t.transaction?.status).toBe('succeed');
    expect(JSON.parse(t.transaction?.custom_data ?? '{}')).toEqual({ concurrent: true, orders: {} });
    const [s0, s1] = [times.Step0!, times.Step1!];
    expect(Math.max(s0[0], s1[0])).toBeLessThan(Math.min(s0[1], s1[1]));
    expect(busi.log(gid).sort()).toEqual(['Step0:action', 'Step1:action']);
  });

  test('concurrent rollback: step 2 fails → its compensation first, then those of 0 and 1', async () => {
    const gid = await genGid(DTM_GRPC);
    busi.on(
      'Step2',
      () => {
        throw new DtmFailure('step 2 refused');
      },
      gid,
    );
    const s = new SagaGrpc(DTM_GRPC, gid)
      .add(busi.target, step(0), r1)
      .add(busi.target, step(1), r1)
      .add(busi.target, step(2), r2)
      .enableConcurrent()
      .addBranchOrder(2, [0, 1]);
    s.options.waitResult = true;
    await expect(s.submit()).rejects.toBeInstanceOf(DtmFailure);
    expect((await finalTrans(gid)).transaction?.status).toBe('failed');
    const log = busi.log(gid);
    expect(log.slice(0, 2).sort()).toEqual(['Step0:action', 'Step1:action']);
    expect(log.slice(2, 4)).toEqual(['Step2:action', 'Step2Revert:compensate']);
    expect(log.slice(4).sort()).toEqual(['Step0Revert:compensate', 'Step1Revert:compensate']);
  });

  test('retryLimit: an action that keeps erroring is retried that many times, then the saga rolls back', async () => {
    const gid = await genGid(DTM_GRPC);
    busi.on(
      'TransIn',
      () => {
        throw new Error('database down');
      },
      gid,
    );
    const s = new SagaGrpc(DTM_GRPC, gid).add(busi.target, out(), r1).add(busi.target, in_(), r2);
    s.options.waitResult = true;
    s.options.retryLimit = 2;
    await s.submit().catch(() => undefined); // the first pass may end before dtm decides
    const t = await finalTrans(gid, 40_000);
    expect(t.transaction?.status).toBe('failed');
    expect(t.transaction?.rollback_reason).toMatch(/RetryLimit/);
    const log = busi.log(gid);
    expect(log.filter((l) => l === 'TransIn:action').length).toBe(3); // first try + 2 retries
    expect(log.slice(-2)).toEqual(['TransInRevert:compensate', 'TransOutRevert:compensate']);
  });

  test('a saga submitted twice with the same gid: dtm refuses the second once finished', async () => {
    const gid = await genGid(DTM_GRPC);
    const mk = () => new SagaGrpc(DTM_GRPC, gid).add(busi.target, out(), r1);
    const s = mk();
    s.options.waitResult = true;
    await s.submit();
    expect((await dtmQuery(gid)).transaction?.status).toBe('succeed');
    await expect(mk().submit()).rejects.toThrow(/current status 'succeed', cannot sumbmit/);
    expect(busi.log(gid)).toEqual(['TransOut:action']);
  });
});
