import { type BusiServer, startTransSvc } from '@dtm-gozero/devkit/busi';
import { testStack } from '@dtm-gozero/devkit/stack';
import { TransSvcService } from '@dtm-gozero/proto/trans';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { closeConnections } from './conn.ts';
import { DtmFailure } from './errors.ts';
import { MsgGrpc } from './msg.ts';
import { genGid } from './trans-base.ts';

// doAndSubmit: when the local step fails and the Abort that follows fails too, the caller still gets the local
// step's error (what went wrong in its own code), with the Abort's error attached — not the Abort's error instead.
let busi: BusiServer;
beforeAll(async () => {
  busi = await startTransSvc();
});
afterAll(async () => {
  await busi.stop();
  closeConnections();
});

test('a failing abort is attached to the local step’s error, not substituted for it', async () => {
  const dtm = testStack().dtmGrpc;
  const gid = await genGid(dtm);
  const m = new MsgGrpc(dtm, gid).add(busi.target, TransSvcService.transIn, { Amount: 1n, UserID: 2n });
  const local = new DtmFailure('local step: insufficient funds');
  const err = await m
    .doAndSubmit(`${busi.target}${TransSvcService.queryPrepared.path}`, async () => {
      // Another client submits the same prepared message first: dtm then refuses the Abort that follows, every
      // time (a submitted message cannot be aborted), however fast or slow it answers.
      await new MsgGrpc(dtm, gid).add(busi.target, TransSvcService.transIn, { Amount: 1n, UserID: 2n }).submit();
      throw local;
    })
    .catch((e: unknown) => e);
  expect(err).toBe(local);
  // dtm's refusal, whether it is still submitted or already succeed: "current status '…', cannot abort"
  expect((err as { abortError?: Error }).abortError?.message).toMatch(
    /dtm Abort via .*current status '\w+', cannot abort/,
  );
});
