import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { MsgGrpc } from '@dtm-gozero/dtmgrpc';
import { TransSvcService as Svc } from '@dtm-gozero/proto/trans';
import { expect, test } from 'vitest';
import { DtmRequestSchema } from './gen/dtmgimp_pb.ts';
import { BRANCHES, msgSubmitRequest } from './worker-connect.ts';

test("the Connect client's Submit carries what our client's MsgGrpc sends: the steps' URLs and the branches' bytes", () => {
  const busi = 'etcd://127.0.0.1:2379/bench-ts-x';
  const ours = new MsgGrpc('127.0.0.1:1', 'gid-1')
    .add(busi, Svc.transOut, { Amount: 30n, UserID: 1n })
    .add(busi, Svc.transIn, { Amount: 30n, UserID: 2n });
  // through the wire format and back, as dtm reads it
  const sent = fromBinary(
    DtmRequestSchema,
    toBinary(DtmRequestSchema, msgSubmitRequest('gid-1', `${busi}/`, BRANCHES)),
  );
  expect(sent.Gid).toBe('gid-1');
  expect(sent.TransType).toBe('msg');
  expect(sent.TransOptions?.WaitResult).toBe(true);
  expect(sent.Steps).toBe(JSON.stringify(ours.branches.map((b) => ({ action: b.url }))));
  expect(JSON.parse(sent.Steps)).toEqual([
    { action: `${busi}/trans.TransSvc/TransOut` },
    { action: `${busi}/trans.TransSvc/TransIn` },
  ]);
  expect(sent.BinPayloads.map((p) => Buffer.from(p).toString('hex'))).toEqual(
    ours.branches.map((b) => b.payload.toString('hex')),
  );
  expect(sent.BinPayloads[1]?.length).toBeGreaterThan(0);
});
