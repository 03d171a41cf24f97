import { AdjustInfo, TransSvcService } from '@dtm-gozero/proto/trans';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { closeConnections } from './conn.ts';
import { DtmInputError } from './errors.ts';
import type { DtmRequest } from './gen/dtmgimp.ts';
import type { UnaryMethod } from './method.ts';
import { SagaGrpc } from './saga.ts';
import { busiMethod } from './testing/busi.ts';
import { type RecordingDtm, startRecordingDtm } from './testing/recording-dtm.ts';

const SRV = 'etcd://127.0.0.1:2379/busi';
const out = { action: busiMethod('TransOut'), compensate: busiMethod('TransOutRevert') };
const in_ = { action: busiMethod('TransIn'), compensate: busiMethod('TransInRevert') };
const r1 = { Amount: 30, UserID: 1 };
const r2 = { Amount: 30, UserID: 2 };

let dtm: RecordingDtm;
beforeAll(async () => {
  dtm = await startRecordingDtm();
});
afterAll(async () => {
  closeConnections();
  await dtm.stop();
});

const sent = (gid: string) =>
  dtm.calls.filter((c) => (c.request as DtmRequest).Gid === gid).map((c) => c as { rpc: string; request: DtmRequest });

describe('SagaGrpc request', () => {
  test('steps JSON, payloads per step, options: what dtm expects from a sequential saga', async () => {
    const s = new SagaGrpc(dtm.target, 'g-seq').add(SRV, out, r1).add(SRV, in_, r2);
    s.options.retryLimit = 2;
    s.options.timeoutToFail = 60;
    s.options.waitResult = true;
    await s.submit();
    const [call, ...rest] = sent('g-seq');
    expect(rest).toEqual([]);
    expect(call?.rpc).toBe('submit');
    const req = call!.request;
    expect(req.TransType).toBe('saga');
    expect(JSON.parse(req.Steps)).toEqual([
      { action: `${SRV}/busi.Busi/TransOut`, compensate: `${SRV}/busi.Busi/TransOutRevert` },
      { action: `${SRV}/busi.Busi/TransIn`, compensate: `${SRV}/busi.Busi/TransInRevert` },
    ]);
    expect(req.BinPayloads.map((b) => AdjustInfo.decode(b))).toEqual([r1, r2]);
    expect(req.CustomedData).toBe('');
    expect(req.TransOptions).toMatchObject({ RetryLimit: 2, TimeoutToFail: 60, WaitResult: true });
  });

  test('Go-style URLs and bytes; an empty compensate URL is allowed (no compensation)', async () => {
    const bytes = AdjustInfo.encode(r1).finish();
    await new SagaGrpc(dtm.target, 'g-url').add(`${SRV}/trans.TransSvc/TransOut`, '', bytes).submit();
    const req = sent('g-url')[0]!.request;
    expect(JSON.parse(req.Steps)).toEqual([{ action: `${SRV}/trans.TransSvc/TransOut`, compensate: '' }]);
    expect(Buffer.from(req.BinPayloads[0]!)).toEqual(Buffer.from(bytes));
  });

  test('typed step without compensate, with the generated TransSvc descriptors', async () => {
    await new SagaGrpc(dtm.target, 'g-nocomp').add(SRV, { action: TransSvcService.transOut }, r1).submit();
    expect(JSON.parse(sent('g-nocomp')[0]!.request.Steps)).toEqual([
      { action: `${SRV}/trans.TransSvc/TransOut`, compensate: '' },
    ]);
  });

  test('concurrent with orders: CustomedData {"concurrent":true,"orders":{"<step>":[pre…]}}', async () => {
    await new SagaGrpc(dtm.target, 'g-conc')
      .add(SRV, out, r1)
      .add(SRV, out, r1)
      .add(SRV, in_, r2)
      .enableConcurrent()
      .addBranchOrder(2, [0, 1])
      .submit();
    const req = sent('g-conc')[0]!.request;
    expect(JSON.parse(req.CustomedData)).toEqual({ concurrent: true, orders: { '2': [0, 1] } });
  });

  test('concurrent without orders', async () => {
    await new SagaGrpc(dtm.target, 'g-conc0').add(SRV, out, r1).enableConcurrent().submit();
    expect(JSON.parse(sent('g-conc0')[0]!.request.CustomedData)).toEqual({ concurrent: true, orders: {} });
  });
});

describe('SagaGrpc bad input: typed errors, nothing sent', () => {
  const before = () => dtm.calls.length;

  test('empty gid or dtm', () => {
    expect(() => new SagaGrpc(dtm.target, '')).toThrow(DtmInputError);
    expect(() => new SagaGrpc(dtm.target, '')).toThrow(/gid is empty/);
    expect(() => new SagaGrpc('', 'g')).toThrow(/dtm address is empty/);
  });

  test('no steps', async () => {
    const n = before();
    const err = await new SagaGrpc(dtm.target, 'g-empty').submit().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DtmInputError);
    expect((err as Error).message).toMatch(/no steps/);
    expect(dtm.calls.length).toBe(n);
  });

  test('streaming descriptor, or not a descriptor', () => {
    const streaming = { ...busiMethod('S'), responseStream: true } as unknown as UnaryMethod<typeof r1, unknown>;
    const s = new SagaGrpc(dtm.target, 'g-stream');
    expect(() => s.add(SRV, { action: streaming, compensate: busiMethod('C') }, r1)).toThrow(DtmInputError);
    expect(() => s.add(SRV, { action: busiMethod('A'), compensate: streaming }, r1)).toThrow(/streaming method/);
    expect(() => s.add(SRV, {} as never, r1)).toThrow(/action, compensate/);
    expect(() => s.add(`${SRV}/busi.Busi/A`, '', 'not bytes' as never)).toThrow(/Uint8Array/);
    expect(() => s.add('', '', new Uint8Array())).toThrow(/action URL is empty/);
    expect(s.steps).toEqual([]);
  });

  test('orders: out of range, without concurrency, negative, self, cycle', async () => {
    const n = before();
    const mk = (gid: string) => new SagaGrpc(dtm.target, gid).add(SRV, out, r1).add(SRV, in_, r2);
    await expect(mk('g-o1').enableConcurrent().addBranchOrder(1, [2]).submit()).rejects.toThrow(
      /names step 2, but there are only 2 steps/,
    );
    await expect(mk('g-o2').enableConcurrent().addBranchOrder(5, [0]).submit()).rejects.toThrow(DtmInputError);
    await expect(mk('g-o3').addBranchOrder(1, [0]).submit()).rejects.toThrow(/only used by a concurrent saga/);
    expect(() => mk('g-o4').addBranchOrder(-1, [0])).toThrow(/0-based step indexes, got -1/);
    expect(() => mk('g-o4').addBranchOrder(1, [0.5])).toThrow(DtmInputError);
    await expect(mk('g-o5').enableConcurrent().addBranchOrder(1, [1]).submit()).rejects.toThrow(/wait for itself/);
    await expect(mk('g-o6').enableConcurrent().addBranchOrder(1, [0]).addBranchOrder(0, [1]).submit()).rejects.toThrow(
      /cycle \(1 → 0 → 1\)/,
    );
    expect(dtm.calls.length).toBe(n);
  });
});
