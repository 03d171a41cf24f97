// Telemetry pointing at a collector that does not answer: the server keeps serving every call, and says so once on
// stderr (naming Batcher and Endpoint), not once per batch.

import { freePort } from '@dtm-gozero/devkit';
import { TransSvcService } from '@dtm-gozero/proto/trans';
import type { Client, ServerUnaryCall, sendUnaryData } from '@grpc/grpc-js';
import { afterAll, expect, test, vi } from 'vitest';
import { telemetryConf } from '../conf/observability.ts';
import { newRpcClient } from '../zrpc/client.ts';
import { RpcServer } from '../zrpc/server.ts';
import { flushAgent } from './agent.ts';

const [port, closed] = [await freePort(), await freePort()];
const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
const server = new RpcServer(
  {
    Name: 'down',
    ListenOn: `127.0.0.1:${port}`,
    Mode: 'test',
    Timeout: 2000,
    Telemetry: telemetryConf({ Name: 'down', Endpoint: `127.0.0.1:${closed}` }),
  },
  (s) =>
    s.addService(TransSvcService, {
      transOut: (_c: ServerUnaryCall<unknown, unknown>, cb: sendUnaryData<unknown>) => cb(null, {}),
    }),
);
await server.start();
const client = await newRpcClient({ Endpoints: [`127.0.0.1:${port}`], NonBlock: false, Timeout: 2000 });
afterAll(async () => {
  client.close();
  await server.stop(300);
  errors.mockRestore();
});

const call = (c: Client) =>
  new Promise<void>((resolve, reject) =>
    c.makeUnaryRequest(
      TransSvcService.transOut.path,
      TransSvcService.transOut.requestSerialize,
      TransSvcService.transOut.responseDeserialize,
      { Amount: 1n, UserID: 1n },
      (err) => (err ? reject(err) : resolve()),
    ),
  );

test('calls are answered while every export fails; one warning for several failed batches', async () => {
  for (let batch = 0; batch < 3; batch++) {
    await Promise.all([call(client), call(client), call(client)]);
    await flushAgent().catch(() => undefined);
  }
  const warnings = errors.mock.calls.map((a) => String(a[0])).filter((l) => l.startsWith('telemetry:'));
  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toMatch(
    new RegExp(
      `^telemetry: cannot export spans to otlpgrpc 127\\.0\\.0\\.1:${closed} \\(.+\\); \\d+ span\\(s\\) dropped`,
    ),
  );
}, 60_000);
