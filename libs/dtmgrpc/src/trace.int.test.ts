// The trace across dtm, against the real dtm: the caller's W3C trace context goes into a transaction's branch
// headers, dtm passes them on every branch call, so each branch joins the caller's trace; `traceBranches: false`
// turns it off; the dtm client metrics count the transactions.

import { tempFile } from '@dtm-gozero/devkit';
import { type BusiServer, startBusiServer } from '@dtm-gozero/devkit/busi';
import { DTM_ETCD } from '@dtm-gozero/devkit/dtm';
import {
  currentTraceIds,
  enableMetrics,
  inSpan,
  metricsRegistry,
  startAgent,
  stopAgent,
  telemetryConf,
} from '@dtm-gozero/gozero';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { closeConnections } from './conn.ts';
import { SagaGrpc } from './saga.ts';
import { tccGlobalTransaction } from './tcc.ts';
import { genGid } from './trans-base.ts';

let busi: BusiServer;
const r1 = { Amount: 30n, UserID: 1n };
const r2 = { Amount: 30n, UserID: 2n };
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/;

beforeAll(async () => {
  busi = await startBusiServer(['TransOut', 'TransOutRevert', 'TransIn', 'TransInRevert', 'Confirm', 'Cancel']);
  startAgent(telemetryConf({ Name: 'dtmgrpc-test', Endpoint: tempFile('spans.jsonl', ''), Batcher: 'file' }));
  enableMetrics();
});
afterAll(async () => {
  await busi?.stop();
  closeConnections();
  await stopAgent();
});

const saga = (gid: string) =>
  new SagaGrpc(DTM_ETCD, gid)
    .add(busi.target, { action: busi.method('TransOut'), compensate: busi.method('TransOutRevert') }, r1)
    .add(busi.target, { action: busi.method('TransIn'), compensate: busi.method('TransInRevert') }, r2);

test('saga: every branch dtm calls carries the traceparent of the span that submitted it', async () => {
  const gid = await genGid(DTM_ETCD);
  let traceId = '';
  await inSpan('submit saga', async () => {
    traceId = currentTraceIds()?.trace ?? '';
    const s = saga(gid);
    s.options = { waitResult: true, branchHeaders: { 'x-tenant': 't1' } };
    await s.submit();
  });
  const calls = busi.calls.filter((c) => c.gid === gid);
  expect(calls.map((c) => c.method)).toEqual(['TransOut', 'TransIn']);
  for (const c of calls) {
    expect(c.headers.traceparent).toMatch(TRACEPARENT);
    expect(TRACEPARENT.exec(c.headers.traceparent as string)?.[1]).toBe(traceId);
    expect(c.headers['x-tenant']).toBe('t1');
  }
});

test('traceBranches: false sends no trace context; a traceparent the caller set itself is kept', async () => {
  const [off, own] = [await genGid(DTM_ETCD), await genGid(DTM_ETCD)];
  const mine = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
  await inSpan('submit two', async () => {
    const a = saga(off);
    a.options = { waitResult: true, traceBranches: false };
    await a.submit();
    const b = saga(own);
    b.options = { waitResult: true, branchHeaders: { traceparent: mine } };
    await b.submit();
  });
  expect(busi.calls.filter((c) => c.gid === off).map((c) => c.headers.traceparent)).toEqual([undefined, undefined]);
  expect(busi.calls.filter((c) => c.gid === own).map((c) => c.headers.traceparent)).toEqual([mine, mine]);
});

test("tcc: the client's try carries its own client span, dtm's confirm the caller's; all in one trace", async () => {
  const gid = await genGid(DTM_ETCD);
  let traceId = '';
  await inSpan('tcc', async () => {
    traceId = currentTraceIds()?.trace ?? '';
    await tccGlobalTransaction(
      DTM_ETCD,
      gid,
      async (t) => {
        await t.callBranch(
          busi.target,
          { try: busi.method('TransOut'), confirm: busi.method('Confirm'), cancel: busi.method('Cancel') },
          r1,
        );
      },
      (t) => {
        t.options.waitResult = true;
      },
    );
  });
  const calls = busi.calls.filter((c) => c.gid === gid);
  expect(calls.map((c) => c.method)).toEqual(['TransOut', 'Confirm']);
  const [tryIds, confirmIds] = calls.map((c) => TRACEPARENT.exec(c.headers.traceparent ?? ''));
  expect(tryIds?.[1]).toBe(traceId);
  expect(confirmIds?.[1]).toBe(traceId);
  expect(tryIds?.[2]).not.toBe(confirmIds?.[2]); // the try's parent is the client span of that call
});

test('dtm client metrics: transactions begun and finished by type and outcome, with their latency', async () => {
  const text = await metricsRegistry().metrics();
  expect(text).toMatch(/dtm_client_trans_begun_total\{type="saga"\} [3-9]/);
  expect(text).toMatch(/dtm_client_trans_finished_total\{type="saga",outcome="submitted"\} [3-9]/);
  expect(text).toMatch(/dtm_client_trans_finished_total\{type="tcc",outcome="submitted"\} 1/);
  expect(text).toMatch(/dtm_client_trans_duration_ms_count\{type="tcc",outcome="submitted"\} 1/);
  expect(text).toMatch(/rpc_client_requests_code_total\{method="\/dtmgimp.Dtm\/Submit",code="0"\} [4-9]/);
});
