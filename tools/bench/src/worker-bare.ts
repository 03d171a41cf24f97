// The bench's bare grpc-js app (the app of --compare's "Node floor" row): dtm's NewGid, then the msg Submit of our
// app's like-for-like row, made with @grpc/grpc-js alone — one client on dtm's resolved address, messages from
// @bufbuild/protobuf (the project's own .proto files, src/gen), each call on grpc-js's leanest path; no interceptors,
// retries, tracing, logging, resolver or library of ours. Driving the bare grpc-js server, it is the least any Node stack on grpc-js costs for the work
// the Go stack does: a measuring instrument for issue #22, msg and NewGid gids only. It speaks worker-loop.ts's line
// protocol; `--dtm-addr` is dtm's host:port.

import {
  create,
  type DescMessage,
  type DescMethodUnary,
  fromBinary,
  type MessageShape,
  toBinary,
} from '@bufbuild/protobuf';
import { EmptySchema } from '@bufbuild/protobuf/wkt';
import { type ChannelInterface, Client, credentials, Metadata, type StatusObject, status } from '@grpc/grpc-js';
import { Dtm } from './gen/dtmgimp_pb.ts';
import { BRANCHES, msgSubmitRequest } from './worker-connect.ts';
import { dtmAddrArg, serveMsgNewGid } from './worker-loop.ts';

/** The deadline of each call to dtm, as our client's default (DEFAULT_CALL_TIMEOUT_MS). */
const CALL_TIMEOUT_MS = 10_000;

/**
 * One unary call of a generated method, its messages encoded and decoded by @bufbuild/protobuf, on grpc-js's leanest
 * path: the channel's call driven directly (start, read, one message, half-close), as libs/dtmgrpc's invokeUnary does.
 * grpc-js's `Client.makeUnaryRequest` costs more per call (its interceptor wrappers, an EventEmitter, an `Error` for the
 * caller's stack) — in the first run of this row, with it, this app spent 1.1–1.4× our client's CPU per transaction,
 * so it was no floor.
 */
export function unary<I extends DescMessage, O extends DescMessage>(
  channel: ChannelInterface,
  method: DescMethodUnary<I, O>,
  req: MessageShape<I>,
): Promise<MessageShape<O>> {
  const { promise, resolve, reject } = Promise.withResolvers<MessageShape<O>>();
  const call = channel.createCall(
    `/${method.parent.typeName}/${method.name}`,
    Date.now() + CALL_TIMEOUT_MS,
    undefined,
    null,
    undefined,
  );
  let res: MessageShape<O> | undefined;
  call.start(new Metadata(), {
    onReceiveMetadata: () => {},
    onReceiveMessage: (b: Buffer) => {
      res = fromBinary(method.output, b);
    },
    onReceiveStatus: (s: StatusObject) =>
      s.code === status.OK && res ? resolve(res) : reject(new Error(`${s.code} ${status[s.code]}: ${s.details}`)),
  });
  call.startRead();
  call.sendMessageWithContext({}, Buffer.from(toBinary(method.input, req)));
  call.halfClose();
  return promise;
}

async function main(): Promise<void> {
  const client = new Client(dtmAddrArg(), credentials.createInsecure());
  const channel = client.getChannel();
  const empty = create(EmptySchema);
  const newGid = async (): Promise<string> => (await unary(channel, Dtm.method.newGid, empty)).Gid;
  await newGid(); // open the channel before "ready"
  await serveMsgNewGid('the bare grpc-js app', newGid, async (_mode, gid, busi) => {
    await unary(channel, Dtm.method.submit, msgSubmitRequest(gid, busi, BRANCHES));
  });
  client.close();
}

if (import.meta.main)
  main().catch((err: unknown) => {
    console.error(`bench-worker (bare grpc-js): ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
