// The bench's bare grpc-js app (the app of --compare's "Node floor" row): dtm's NewGid, then the msg Submit of our
// app's like-for-like row, made with @grpc/grpc-js alone — one client on dtm's resolved address, messages from
// @bufbuild/protobuf (the project's own .proto files, src/gen), no interceptors, retries, tracing, logging, resolver
// or library of ours. Driving the bare grpc-js server, it is the least any Node stack on grpc-js costs for the work
// the Go stack does: a measuring instrument for issue #22, msg and NewGid gids only. It speaks worker-loop.ts's line
// protocol; `--dtm-addr` is dtm's host:port.

import { parseArgs } from 'node:util';
import {
  create,
  type DescMessage,
  type DescMethodUnary,
  fromBinary,
  type MessageShape,
  toBinary,
} from '@bufbuild/protobuf';
import { EmptySchema } from '@bufbuild/protobuf/wkt';
import { Client, credentials, type ServiceError } from '@grpc/grpc-js';
import { Dtm } from './gen/dtmgimp_pb.ts';
import type { LevelRequest } from './protocol.ts';
import { BRANCHES, msgSubmitRequest } from './worker-connect.ts';
import { serve } from './worker-loop.ts';

/** The deadline of each call to dtm, as our client's default (DEFAULT_CALL_TIMEOUT_MS). */
const CALL_TIMEOUT_MS = 10_000;

/** One unary call of a generated method through grpc-js, its messages encoded and decoded by @bufbuild/protobuf. */
export function unary<I extends DescMessage, O extends DescMessage>(
  client: Client,
  method: DescMethodUnary<I, O>,
  req: MessageShape<I>,
): Promise<MessageShape<O>> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      `/${method.parent.typeName}/${method.name}`,
      (m: MessageShape<I>) => Buffer.from(toBinary(method.input, m)),
      (b: Buffer) => fromBinary(method.output, b),
      req,
      { deadline: Date.now() + CALL_TIMEOUT_MS },
      (err: ServiceError | null, res?: MessageShape<O>) => (err || !res ? reject(err) : resolve(res)),
    );
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { 'dtm-addr': { type: 'string' } } });
  const addr = values['dtm-addr'];
  if (!addr || !/^[^/:]+:\d+$/.test(addr)) throw new Error(`--dtm-addr ${addr ?? ''}: want dtm's gRPC host:port`);
  const client = new Client(addr, credentials.createInsecure());
  const empty = create(EmptySchema);
  const newGid = async (): Promise<string> => (await unary(client, Dtm.method.newGid, empty)).Gid;
  await newGid(); // open the channel before "ready"
  const accepts = (r: LevelRequest): string | undefined =>
    r.mode !== 'msg'
      ? `the bare grpc-js app makes msg transactions only (mode ${r.mode})`
      : r.gid === 'local'
        ? "the bare grpc-js app takes its gids from dtm's NewGid only (gid local)"
        : undefined;
  await serve(
    {
      gid: newGid,
      tx: async (_mode, gid, busi) => {
        await unary(client, Dtm.method.submit, msgSubmitRequest(gid, busi, BRANCHES));
      },
    },
    'dtm',
    accepts,
  );
  client.close();
}

if (import.meta.main)
  main().catch((err: unknown) => {
    console.error(`bench-worker (bare grpc-js): ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
