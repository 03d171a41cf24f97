// go-zero's Auth against the suite's real Redis: our server checks app/token (a hash in Redis) from our client
// (App/Token) and from a real go-zero client (.cache/bin/go-trans-client, go-zero v1.4.4), answering go-zero's codes
// and messages; StrictControl for an unknown app and for a Redis that does not answer.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { freePort, root, runCommand, tempFile } from '@dtm-gozero/devkit';
import { testDatabases } from '@dtm-gozero/devkit/stack';
import { TransSvcService } from '@dtm-gozero/proto/trans';
import { type ServiceError, status } from '@grpc/grpc-js';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { RpcClientConf } from '../conf/config.ts';
import { loadServerConf } from '../conf/config.ts';
import { newRpcClient } from './client.ts';
import { RpcServer } from './server.ts';

const GO_CLIENT = join(root, '.cache/bin/go-trans-client');
const { redis } = testDatabases();
const key = `rpc:auth:${randomUUID().slice(0, 8)}`;
const store = new Redis({ host: redis.host, port: redis.port, lazyConnect: true, maxRetriesPerRequest: 1 });
const stops: (() => Promise<void>)[] = [];

beforeAll(async () => {
  await store.connect();
  await store.hset(key, 'app1', 'token1');
});
afterAll(async () => {
  for (const stop of stops) await stop();
  await store.del(key);
  store.disconnect();
});

/** A server loaded from YAML with Auth on; `extra` adds keys (StrictControl…). */
async function serve(extra = '', redisHost = `${redis.host}:${redis.port}`): Promise<number> {
  const port = await freePort();
  const conf = loadServerConf(
    tempFile(
      'auth.yaml',
      `Name: authsvc\nListenOn: 127.0.0.1:${port}\nMode: dev\nLog:\n  Level: severe\nAuth: true\n${extra}` +
        `Redis:\n  Host: ${redisHost}\n  Key: ${key}\n`,
    ),
  );
  const ok = (_c: unknown, cb: (e: null, v: object) => void) => cb(null, {});
  const s = new RpcServer(conf, (srv) => srv.addService(TransSvcService, { transIn: ok, transOut: ok }));
  await s.start();
  stops.push(() => s.stop(0));
  return port;
}

/** One TransOut through our client with `creds`; the error (code, details) or null. */
async function callOurs(port: number, creds: Pick<RpcClientConf, 'App' | 'Token'>) {
  const c = await newRpcClient({ Endpoints: [`127.0.0.1:${port}`], NonBlock: true, Timeout: 5000, ...creds });
  try {
    return await new Promise<{ code: number; details: string } | null>((resolve) =>
      c.makeUnaryRequest(
        TransSvcService.transOut.path,
        TransSvcService.transOut.requestSerialize,
        TransSvcService.transOut.responseDeserialize,
        { Amount: 1n, UserID: 1n },
        (e: ServiceError | null) => resolve(e && { code: e.code, details: e.details }),
      ),
    );
  } finally {
    c.close();
  }
}

/** One TransOut through go-zero's own client (direct target), with -app/-token; exit code and output. */
async function callGo(port: number, app: string, token: string) {
  const p = runCommand(
    GO_CLIENT,
    ['-target', `direct:///127.0.0.1:${port}`, '-timeout', '10s', ...(app ? ['-app', app, '-token', token] : [])],
    root,
  );
  const code = await p.exited(20_000);
  return { code, out: p.stdout() + p.stderr() };
}

test('our client with App/Token: the right token passes, a wrong one is access denied, none is app/token required', {
  timeout: 30_000,
}, async () => {
  const port = await serve();
  expect(await callOurs(port, { App: 'app1', Token: 'token1' })).toBeNull();
  expect(await callOurs(port, { App: 'app1', Token: 'nope' })).toEqual({
    code: status.UNAUTHENTICATED,
    details: 'access denied',
  });
  expect(await callOurs(port, {})).toEqual({ code: status.UNAUTHENTICATED, details: 'app/token required' });
  // go-zero without StrictControl lets an app unknown to Redis through
  expect(await callOurs(port, { App: 'who', Token: 'x' })).toBeNull();
});

test("a go-zero client's App/Token is accepted, and refused with go-zero's own code and message", {
  timeout: 60_000,
}, async () => {
  const port = await serve();
  expect(await callGo(port, 'app1', 'token1')).toEqual({ code: 0, out: 'ok\n' });
  const denied = await callGo(port, 'app1', 'wrong');
  expect(denied.code).not.toBe(0);
  expect(denied.out).toContain('code = Unauthenticated desc = access denied');
  const none = await callGo(port, '', '');
  expect(none.out).toContain('code = Unauthenticated desc = app/token required');
});

test('StrictControl: an unknown app is INTERNAL "redis: nil"; a Redis that does not answer is INTERNAL within the bound', {
  timeout: 30_000,
}, async () => {
  const port = await serve('StrictControl: true\n');
  expect(await callOurs(port, { App: 'app1', Token: 'token1' })).toBeNull();
  expect(await callOurs(port, { App: 'who', Token: 'x' })).toEqual({ code: status.INTERNAL, details: 'redis: nil' });
  const deadRedis = await freePort(); // nothing listens there
  const strict = await serve('StrictControl: true\n', `127.0.0.1:${deadRedis}`);
  const started = Date.now();
  expect(await callOurs(strict, { App: 'app1', Token: 'token1' })).toMatchObject({ code: status.INTERNAL });
  expect(Date.now() - started).toBeLessThan(4500);
  const lenient = await serve('', `127.0.0.1:${deadRedis}`);
  expect(await callOurs(lenient, { App: 'app1', Token: 'token1' })).toBeNull();
});

test('Redis.NonBlock: false and a Redis that does not answer: start() fails naming Redis.Host', {
  timeout: 30_000,
}, async () => {
  const dead = await freePort();
  await expect(serve('', `127.0.0.1:${dead}\n  NonBlock: false`)).rejects.toThrow(
    new RegExp(
      `^Redis\\.Host 127\\.0\\.0\\.1:${dead}: no answer to a ping \\(.+\\); Auth: true looks tokens up there — start Redis, fix Redis\\.Host, or set Redis\\.NonBlock: true$`,
    ),
  );
});
