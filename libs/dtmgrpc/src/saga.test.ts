import { freePort } from '@dtm-gozero/devkit';
import { busiMethod } from '@dtm-gozero/devkit/busi';
import { AdjustInfo, TransSvcService } from '@dtm-gozero/proto/trans';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { closeConnections } from './conn.ts';
import { DtmError, DtmInputError } from './errors.ts';
import type { UnaryMethod } from './method.ts';
import { SagaGrpc } from './saga.ts';

// Unit tests: what SagaGrpc checks before sending anything. What it sends is checked against the real dtm in
// saga.int.test.ts. The dtm address here is a closed loopback port: a submit that got as far as the network would
// fail with a connection error (a plain DtmError), not with DtmInputError.
const SRV = 'etcd://127.0.0.1:2379/busi';
const out = { action: busiMethod('TransOut'), compensate: busiMethod('TransOutRevert') };
const in_ = { action: busiMethod('TransIn'), compensate: busiMethod('TransInRevert') };
const r1 = { Amount: 30n, UserID: 1n };
const r2 = { Amount: 30n, UserID: 2n };

let dtm: string;
beforeAll(async () => {
  dtm = `127.0.0.1:${await freePort()}`; // nothing listens: a call that reaches the network fails there
});
afterAll(() => {
  closeConnections();
});

/** Awaits `p`, which must reject with DtmInputError (refused before sending) and a message matching `re`. */
async function refused(p: Promise<unknown>, re: RegExp): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DtmInputError);
  expect((err as Error).message).toMatch(re);
}

describe('the closed dtm port', () => {
  test('a valid saga does try to send, and fails with a connection error, not DtmInputError', async () => {
    const s = new SagaGrpc(dtm, 'g-valid').add(SRV, out, r1);
    s.options.callTimeoutMs = 5000;
    const err = await s.submit().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DtmError);
    expect(err).not.toBeInstanceOf(DtmInputError);
    expect((err as DtmError).code).toBe(status.UNAVAILABLE);
  });
});

describe('SagaGrpc steps (pure: no server)', () => {
  test('typed steps: URLs from the server target and the descriptors, one payload per step', () => {
    const s = new SagaGrpc(dtm, 'g-steps').add(SRV, out, r1).add(SRV, { action: TransSvcService.transIn }, r2);
    expect(s.steps.map((st) => [st.action.url, st.compensateUrl])).toEqual([
      [`${SRV}/busi.Busi/TransOut`, `${SRV}/busi.Busi/TransOutRevert`],
      [`${SRV}/trans.TransSvc/TransIn`, ''],
    ]);
    expect(s.steps.map((st) => AdjustInfo.decode(st.action.payload))).toEqual([r1, r2]);
    expect(s.concurrent).toBe(false);
    expect(s.enableConcurrent().concurrent).toBe(true);
  });

  test('Go-style URLs and bytes; an empty compensate URL is allowed (no compensation)', () => {
    const bytes = AdjustInfo.encode(r1).finish();
    const s = new SagaGrpc(dtm, 'g-url').add(`${SRV}/trans.TransSvc/TransOut`, '', bytes);
    expect(s.steps.map((st) => [st.action.url, st.compensateUrl])).toEqual([[`${SRV}/trans.TransSvc/TransOut`, '']]);
    expect(Buffer.from(s.steps[0]!.action.payload)).toEqual(Buffer.from(bytes));
  });
});

describe('SagaGrpc bad input: DtmInputError, nothing sent', () => {
  test('empty gid or dtm', () => {
    expect(() => new SagaGrpc(dtm, '')).toThrow(DtmInputError);
    expect(() => new SagaGrpc(dtm, '')).toThrow(/gid is empty/);
    expect(() => new SagaGrpc('', 'g')).toThrow(DtmInputError);
    expect(() => new SagaGrpc('', 'g')).toThrow(/dtm address is empty/);
  });

  test('no steps', async () => {
    await refused(new SagaGrpc(dtm, 'g-empty').submit(), /no steps/);
  });

  test('streaming descriptor, or not a descriptor', () => {
    const streaming = { ...busiMethod('S'), responseStream: true } as unknown as UnaryMethod<typeof r1, unknown>;
    const s = new SagaGrpc(dtm, 'g-stream');
    expect(() => s.add(SRV, { action: streaming, compensate: busiMethod('C') }, r1)).toThrow(DtmInputError);
    expect(() => s.add(SRV, { action: busiMethod('A'), compensate: streaming }, r1)).toThrow(/streaming method/);
    expect(() => s.add(SRV, {} as never, r1)).toThrow(/action, compensate/);
    expect(() => s.add(`${SRV}/busi.Busi/A`, '', 'not bytes' as never)).toThrow(/Uint8Array/);
    expect(() => s.add('', '', new Uint8Array())).toThrow(/action URL is empty/);
    expect(s.steps).toEqual([]);
  });

  test('orders: out of range, without concurrency, negative, self, cycle', async () => {
    const mk = (gid: string) => new SagaGrpc(dtm, gid).add(SRV, out, r1).add(SRV, in_, r2);
    await refused(
      mk('g-o1').enableConcurrent().addBranchOrder(1, [2]).submit(),
      /names step 2, but there are only 2 steps/,
    );
    await refused(mk('g-o2').enableConcurrent().addBranchOrder(5, [0]).submit(), /names step 5/);
    await refused(mk('g-o3').addBranchOrder(1, [0]).submit(), /only used by a concurrent saga/);
    expect(() => mk('g-o4').addBranchOrder(-1, [0])).toThrow(DtmInputError);
    expect(() => mk('g-o4').addBranchOrder(-1, [0])).toThrow(/0-based step indexes, got -1/);
    expect(() => mk('g-o4').addBranchOrder(1, [0.5])).toThrow(DtmInputError);
    await refused(mk('g-o5').enableConcurrent().addBranchOrder(1, [1]).submit(), /wait for itself/);
    await refused(
      mk('g-o6').enableConcurrent().addBranchOrder(1, [0]).addBranchOrder(0, [1]).submit(),
      /cycle \(1 → 0 → 1\)/,
    );
  });
});
