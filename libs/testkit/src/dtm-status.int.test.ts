// queryTrans and waitForStatus against a real dtm: the whole transaction as dtm reports it; the status reached, a refusal as soon as the transaction ends otherwise, and
// bounded failures (a gid dtm does not know, a dtm that does not answer) that say what was seen.
import { closeConnections, genGid, MsgGrpc } from '@dtm-gozero/dtmgrpc';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { queryTrans, waitForStatus } from './dtm-status.ts';
import { TestkitError } from './errors.ts';
import { freePort } from './ports.ts';
import { startDtmStack } from './stack.ts';
import type { DtmStack } from './types.ts';

let stack: DtmStack;
let aborted: string;
beforeAll(async () => {
  stack = await startDtmStack({ backend: 'local' });
  // A prepared message, aborted: dtm marks it failed without calling any branch (nothing listens on port 1).
  aborted = await genGid(stack.dtmGrpc);
  const msg = new MsgGrpc(stack.dtmGrpc, aborted).add('127.0.0.1:1/trans.TransSvc/TransIn', new Uint8Array());
  await msg.prepare('127.0.0.1:1/trans.TransSvc/QueryPrepared');
  await msg.abort();
}, 120_000);
afterAll(async () => {
  closeConnections();
  await stack?.stop();
});

test('resolves with the status reached: the one asked for, or by default either final one', async () => {
  expect(await waitForStatus(stack.dtmHttp, aborted, 'failed')).toBe('failed');
  expect(await waitForStatus(stack.dtmHttp, aborted)).toBe('failed');
  expect(await waitForStatus(stack.dtmHttp, aborted, ['succeed', 'failed'])).toBe('failed');
});

test('a transaction that ended otherwise is refused at once, not waited on until the deadline', async () => {
  const t0 = Date.now();
  const err = await waitForStatus(stack.dtmHttp, aborted, 'succeed', { timeoutMs: 20_000 }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(TestkitError);
  expect((err as Error).message).toBe(`global transaction ${aborted} ended failed, not succeed`);
  expect(Date.now() - t0).toBeLessThan(10_000);
});

test('a gid dtm does not know: rejected after timeoutMs, naming what was seen', async () => {
  const t0 = Date.now();
  const err = await waitForStatus(stack.dtmHttp, 'no-such-gid', 'succeed', { timeoutMs: 500 }).catch((e) => e);
  expect((err as Error).message).toBe(
    'global transaction no-such-gid not succeed within 500 ms (last status: unknown to dtm)',
  );
  expect(Date.now() - t0).toBeLessThan(10_000);
});

test('a dtm that does not answer: rejected after timeoutMs, naming the address and the error', async () => {
  const nobody = `http://127.0.0.1:${await freePort()}`;
  const err = await waitForStatus(nobody, 'g1', 'succeed', { timeoutMs: 300 }).catch((e) => e);
  expect(err).toBeInstanceOf(TestkitError);
  expect((err as Error).message).toMatch(
    new RegExp(`^global transaction g1 not succeed within 300 ms \\(dtm's API at ${nobody} failed: .+\\)$`),
  );
});

test('queryTrans: the whole transaction as dtm reports it, null for a gid it does not know, bounded when it is down', async () => {
  const t = await queryTrans(stack.dtmHttp, aborted);
  expect(t.transaction).toMatchObject({
    status: 'failed',
    trans_type: 'msg',
    query_prepared: '127.0.0.1:1/trans.TransSvc/QueryPrepared',
  });
  expect(t.transaction?.steps).toEqual([{ action: '127.0.0.1:1/trans.TransSvc/TransIn' }]);
  expect((await queryTrans(stack.dtmHttp, 'no-such-gid')).transaction).toBeNull();
  const nobody = `http://127.0.0.1:${await freePort()}`;
  await expect(queryTrans(nobody, 'g1', 300)).rejects.toThrow();
});
