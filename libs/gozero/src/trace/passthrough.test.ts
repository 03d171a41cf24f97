// Without Telemetry (no tracer provider in this process), a server still passes its caller's W3C trace context on
// to the services it calls, as go-zero does (its propagator is set at init); and a call with none gets none.

import { freePort } from '@dtm-gozero/devkit';
import { TransSvcService } from '@dtm-gozero/proto/trans';
import { type Client, Metadata, type ServerUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import { afterAll, expect, test } from 'vitest';
import { newRpcClient } from '../zrpc/client.ts';
import { RpcServer } from '../zrpc/server.ts';

const seen: (string | undefined)[] = [];
const conf = (port: number) => ({ Name: 's', ListenOn: `127.0.0.1:${port}`, Mode: 'test', Timeout: 2000 });

function transOut(client: Client, md = new Metadata()): Promise<void> {
  return new Promise((resolve, reject) =>
    client.makeUnaryRequest(
      TransSvcService.transOut.path,
      TransSvcService.transOut.requestSerialize,
      TransSvcService.transOut.responseDeserialize,
      { Amount: 1n, UserID: 1n },
      md,
      (err) => (err ? reject(err) : resolve()),
    ),
  );
}

const [innerPort, outerPort] = [await freePort(), await freePort()];
const inner = new RpcServer(conf(innerPort), (s) =>
  s.addService(TransSvcService, {
    transOut: (call: ServerUnaryCall<unknown, unknown>, cb: sendUnaryData<unknown>) => {
      seen.push(call.metadata.get('traceparent')[0] as string | undefined);
      cb(null, {});
    },
  }),
);
await inner.start();
const innerClient = await newRpcClient({ Endpoints: [`127.0.0.1:${innerPort}`], NonBlock: false, Timeout: 2000 });
const outer = new RpcServer(conf(outerPort), (s) =>
  s.addService(TransSvcService, {
    transOut: (_call: ServerUnaryCall<unknown, unknown>, cb: sendUnaryData<unknown>) => {
      transOut(innerClient).then(
        () => cb(null, {}),
        (err: Error) => cb(err),
      );
    },
  }),
);
await outer.start();
const client = await newRpcClient({ Endpoints: [`127.0.0.1:${outerPort}`], NonBlock: false, Timeout: 2000 });
afterAll(async () => {
  client.close();
  innerClient.close();
  await Promise.all([outer.stop(300), inner.stop(300)]);
});

test("the caller's trace goes on through a server with no Telemetry; a call without one carries none", async () => {
  const md = new Metadata();
  md.set('traceparent', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
  await transOut(client, md);
  await transOut(client);
  expect(seen).toHaveLength(2);
  expect(seen[0]).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);
  expect(seen[1]).toBeUndefined();
});
