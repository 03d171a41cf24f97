// go-zero v1.10's MethodTimeouts on real calls: a slow handler on a free-port server is cut at its method's
// timeout, not the server's Timeout (longer or shorter), and a caller's shorter deadline still wins.

import { freePort, tempFile } from '@dtm-gozero/devkit';
import { TransSvcService } from '@dtm-gozero/proto/trans';
import { type ServiceError, status } from '@grpc/grpc-js';
import { afterAll, expect, test } from 'vitest';
import { loadServerConf } from '../conf/config.ts';
import { newRpcClient } from './client.ts';
import { RpcServer } from './server.ts';

const HANDLER_MS = 1800;
const stops: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const stop of stops) await stop();
});

/** A server from a YAML whose TransSvc handlers answer after HANDLER_MS; a client with `clientTimeout`. */
async function serve(yamlTail: string, clientTimeout = 10_000) {
  const port = await freePort();
  const conf = loadServerConf(
    tempFile('mt.yaml', `Name: mt\nListenOn: 127.0.0.1:${port}\nMode: dev\nLog:\n  Level: severe\n${yamlTail}`),
  );
  const slow = (_c: unknown, cb: (e: null, v: object) => void) => setTimeout(() => cb(null, {}), HANDLER_MS);
  const s = new RpcServer(conf, (srv) => srv.addService(TransSvcService, { transIn: slow, transOut: slow }));
  await s.start();
  const c = await newRpcClient({
    Endpoints: [`127.0.0.1:${port}`],
    NonBlock: false,
    Timeout: clientTimeout,
    Middlewares: { Trace: true, Duration: false, Prometheus: true, Breaker: false, Timeout: true },
  });
  stops.push(async () => {
    c.close();
    await s.stop(0);
  });
  const call = (method: 'transIn' | 'transOut') => {
    const started = performance.now();
    return new Promise<{ err: ServiceError | null; ms: number }>((resolve) =>
      c.makeUnaryRequest(
        TransSvcService[method].path,
        TransSvcService[method].requestSerialize,
        TransSvcService[method].responseDeserialize,
        { Amount: 1n, UserID: 1n },
        (err) => resolve({ err, ms: performance.now() - started }),
      ),
    );
  };
  return call;
}

test("a method's timeout longer than Timeout lets it finish; the other methods keep Timeout", {
  timeout: 30_000,
}, async () => {
  const call = await serve(
    'Timeout: 1000\nMethodTimeouts:\n  - FullMethod: /trans.TransSvc/TransOut\n    Timeout: 5s\n',
  );
  const [out, inn] = await Promise.all([call('transOut'), call('transIn')]);
  expect(out.err).toBeNull();
  expect(out.ms).toBeGreaterThanOrEqual(HANDLER_MS - 50);
  expect(inn.err?.code).toBe(status.DEADLINE_EXCEEDED);
  expect(inn.err?.details).toBe('handler did not finish within the server Timeout of 1000 ms');
  expect(inn.ms).toBeLessThan(HANDLER_MS);
});

test("a method's timeout shorter than Timeout cuts it at that timeout", { timeout: 30_000 }, async () => {
  const call = await serve('Timeout: 10000\nMethodTimeouts: [{FullMethod: /trans.TransSvc/TransIn, Timeout: 300ms}]\n');
  const [inn, out] = await Promise.all([call('transIn'), call('transOut')]);
  expect(inn.err?.code).toBe(status.DEADLINE_EXCEEDED);
  expect(inn.err?.details).toBe('handler did not finish within its MethodTimeouts entry of 300 ms');
  expect(inn.ms).toBeGreaterThanOrEqual(250);
  expect(inn.ms).toBeLessThan(HANDLER_MS - 300);
  expect(out.err).toBeNull();
});

test("the client's shorter deadline wins over the method's timeout", { timeout: 30_000 }, async () => {
  const call = await serve(
    'Timeout: 1000\nMethodTimeouts: [{FullMethod: /trans.TransSvc/TransOut, Timeout: 5s}]\n',
    400,
  );
  const out = await call('transOut');
  expect(out.err?.code).toBe(status.DEADLINE_EXCEEDED);
  expect(out.err?.details).not.toMatch(/MethodTimeouts|server Timeout/); // grpc-js's own deadline, on the client
  expect(out.ms).toBeLessThan(HANDLER_MS - 300);
});
