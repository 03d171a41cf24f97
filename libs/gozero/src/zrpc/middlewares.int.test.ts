// go-zero's Stat and Duration interceptors on a real gRPC server and client: the slow-call line past
// StatConf.SlowThreshold, IgnoreContentMethods, and the client's `fail - …` line, as logx JSON on stderr.

import { freePort } from '@dtm-gozero/devkit';
import { TransSvcService } from '@dtm-gozero/proto/trans';
import { type ServiceError, status } from '@grpc/grpc-js';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { newRpcClient } from './client.ts';
import { RpcServer } from './server.ts';

let lines: string[] = [];
const write = process.stderr.write.bind(process.stderr);
beforeEach(() => {
  lines = [];
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    lines.push(...String(chunk).split('\n').filter(Boolean));
    return (write as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stderr.write;
});
afterEach(() => {
  process.stderr.write = write;
});
const logx = () => lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, string>);
const flushed = () => new Promise((r) => setImmediate(r));

async function serve(ignore: string[], answer: (cb: (e: Partial<ServiceError> | null, v?: object) => void) => void) {
  const port = await freePort();
  const s = new RpcServer(
    {
      Name: 'mw',
      ListenOn: `127.0.0.1:${port}`,
      Mode: 'dev',
      Timeout: 5000,
      Middlewares: {
        Trace: true,
        Recover: true,
        Stat: true,
        StatConf: { SlowThreshold: 50, IgnoreContentMethods: ignore },
        Prometheus: true,
        Breaker: true,
      },
    },
    (srv) =>
      srv.addService(TransSvcService, {
        transOut: (_c: unknown, cb: (e: Partial<ServiceError> | null, v?: object) => void) => answer(cb),
        transIn: (_c: unknown, cb: (e: Partial<ServiceError> | null, v?: object) => void) => answer(cb),
      }),
  );
  await s.start();
  const c = await newRpcClient({ Endpoints: [`127.0.0.1:${port}`], NonBlock: false, Timeout: 2000 });
  const call = (path: string) =>
    new Promise<ServiceError | null>((resolve) =>
      c.makeUnaryRequest(
        path,
        TransSvcService.transOut.requestSerialize,
        TransSvcService.transOut.responseDeserialize,
        { Amount: 7n, UserID: 3n },
        (e) => resolve(e),
      ),
    );
  const close = async (): Promise<void> => {
    c.close();
    await s.stop(0);
  };
  return { port, call, close };
}

test('a call slower than StatConf.SlowThreshold is a `[RPC] slowcall` line at slow level; an ignored method has no request', async () => {
  const x = await serve(['/trans.TransSvc/TransIn'], (cb) => setTimeout(() => cb(null, {}), 120));
  try {
    expect(await x.call(TransSvcService.transOut.path)).toBeNull();
    expect(await x.call(TransSvcService.transIn.path)).toBeNull();
    await flushed();
    const slow = logx().filter((l) => l.level === 'slow');
    expect(slow.map((l) => l.content)).toEqual([
      expect.stringMatching(
        /^\[RPC\] slowcall - 127\.0\.0\.1:\d+ - \/trans\.TransSvc\/TransOut - \{"Amount":7,"UserID":3\}$/,
      ),
      expect.stringMatching(/^\[RPC\] slowcall - 127\.0\.0\.1:\d+ - \/trans\.TransSvc\/TransIn$/),
    ]);
    for (const l of slow) expect(Number(/^(\d+\.\d)ms$/.exec(l.duration ?? '')?.[1])).toBeGreaterThan(50);
  } finally {
    await x.close();
  }
});

test('the client Duration interceptor logs a failed call as `fail - <target/method> - <request> - <error>` at error level', async () => {
  const x = await serve([], (cb) => cb({ code: status.ABORTED, details: 'FAILURE asked for' }));
  try {
    expect((await x.call(TransSvcService.transOut.path))?.code).toBe(status.ABORTED);
    await flushed();
    expect(logx().filter((l) => l.caller === 'clientinterceptors/durationinterceptor.go')).toEqual([
      expect.objectContaining({
        level: 'error',
        content: `fail - direct:/127.0.0.1:${x.port}/trans.TransSvc/TransOut - {"Amount":7,"UserID":3} - FAILURE asked for`,
        duration: expect.stringMatching(/^\d+\.\dms$/),
      }),
    ]);
  } finally {
    await x.close();
  }
});
