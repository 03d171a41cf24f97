// The bench's Connect client variant (`--client connect`, and the Connect row of --compare): the same calls as our
// app's like-for-like row — dtm's NewGid, then a msg Submit with the same two branches, payloads and WaitResult —
// made through Connect's gRPC transport over node:http2 (@connectrpc/connect-node) with messages from
// @bufbuild/protobuf, generated from the project's own .proto files (npm run proto → src/gen). A measuring
// instrument for issue #22 (grpc-js's cost against another maintained Node gRPC stack), not a library feature: msg
// and NewGid gids only. It speaks worker-loop.ts's line protocol; `--dtm-addr` is dtm's host:port (Connect has no
// etcd resolver: the bench resolves dtm's target once, as grpc-js's channel also dials one resolved address).

import { create, type DescMethod, type MessageInitShape, toBinary } from '@bufbuild/protobuf';
import { createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { Dtm, DtmRequestSchema } from './gen/dtmgimp_pb.ts';
import { AdjustInfoSchema, TransSvc } from './gen/trans_pb.ts';
import { dtmAddrArg, serveMsgNewGid } from './worker-loop.ts';

/** The deadline of each call to dtm, as our client's default (DEFAULT_CALL_TIMEOUT_MS). */
const CALL_TIMEOUT_MS = 10_000;

/** A branch: a generated method of trans and its request. */
export type Branch = [DescMethod, MessageInitShape<typeof AdjustInfoSchema>];

/**
 * A msg Submit's request, field for field what MsgGrpc sends: the steps' JSON (each action the busi target plus the
 * method's `/package.Service/Method`, which dtm's go-zero driver splits back) and each branch's AdjustInfo bytes.
 */
export function msgSubmitRequest(gid: string, busi: string, branches: Branch[]) {
  const server = busi.replace(/\/+$/, '');
  return create(DtmRequestSchema, {
    Gid: gid,
    TransType: 'msg',
    TransOptions: { WaitResult: true },
    Steps: JSON.stringify(branches.map(([m]) => ({ action: `${server}/${m.parent.typeName}/${m.name}` }))),
    BinPayloads: branches.map(([, req]) => toBinary(AdjustInfoSchema, create(AdjustInfoSchema, req))),
  });
}

/** worker.ts's msg: TransOut from user 1, TransIn to user 2, 30 each. */
export const BRANCHES: Branch[] = [
  [TransSvc.method.transOut, { Amount: 30n, UserID: 1n }],
  [TransSvc.method.transIn, { Amount: 30n, UserID: 2n }],
];

async function main(): Promise<void> {
  const dtm = createClient(Dtm, createGrpcTransport({ baseUrl: `http://${dtmAddrArg()}` }));
  const call = { timeoutMs: CALL_TIMEOUT_MS };
  const newGid = async (): Promise<string> => (await dtm.newGid({}, call)).Gid;
  await newGid(); // open the HTTP/2 session before "ready"
  await serveMsgNewGid('the Connect client', newGid, async (_mode, gid, busi) => {
    await dtm.submit(msgSubmitRequest(gid, busi, BRANCHES), call);
  });
}

if (import.meta.main)
  main()
    .then(() => process.exit(0)) // the HTTP/2 session would keep the process alive
    .catch((err: unknown) => {
      console.error(`bench-worker (connect): ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    });
