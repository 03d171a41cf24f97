// go-zero's server and client behaviour around calls: health reflecting readiness, the server Timeout, the
// drain on stop, p2c by default (round_robin selectable), and the client's Timeout and NonBlock.
import { randomUUID } from 'node:crypto';
import { freePort } from '@dtm-gozero/devkit';
import { callOnce, instance, load } from '@dtm-gozero/devkit/gozero';
import { testStack } from '@dtm-gozero/devkit/stack';
import { type Client, credentials, Client as GrpcClient, type MethodDefinition, status } from '@grpc/grpc-js';
import { Etcd3 } from 'etcd3';
import { service as healthService } from 'grpc-health-check';
import { afterAll, expect, test } from 'vitest';
import { closeEtcdClients } from '../discov/clients.ts';
import { newRpcClient } from './client.ts';
import { DRAIN_MS, RpcServer, ServerStartError } from './server.ts';

afterAll(() => closeEtcdClients());
const { etcdEndpoints } = testStack();
const newKey = (): string => `srv-${randomUUID().slice(0, 8)}`;

const STATUS_NUMBER: Record<string, number> = { UNKNOWN: 0, SERVING: 1, NOT_SERVING: 2, SERVICE_UNKNOWN: 3 };

/** grpc.health.v1.Health/Check through grpc-health-check's definition: the status number, or the gRPC error. */
function healthCheck(client: Client, service = ''): Promise<number> {
  const check = healthService.Check as MethodDefinition<{ service: string }, { status: string }>;
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      check.path,
      check.requestSerialize,
      check.responseDeserialize,
      { service },
      { deadline: Date.now() + 2000 },
      (err, v) => (err ? reject(err) : resolve(STATUS_NUMBER[v?.status ?? 'UNKNOWN'] ?? -1)),
    );
  });
}

test('health: SERVING once registered, NOT_SERVING as soon as the stop begins; unknown service is NOT_FOUND', async () => {
  const port = await freePort();
  const s = instance('h', port, { Hosts: etcdEndpoints, Key: newKey() });
  await s.start();
  const c = new GrpcClient(`127.0.0.1:${port}`, credentials.createInsecure());
  try {
    expect(await healthCheck(c)).toBe(1);
    await expect(healthCheck(c, 'nope.Svc')).rejects.toMatchObject({ code: status.NOT_FOUND });
    const stopping = s.stop();
    // Deregistered and NOT_SERVING while it still takes calls (go-zero's 1 s wrap-up before the drain).
    await new Promise((r) => setTimeout(r, 300));
    expect(await healthCheck(c)).toBe(2);
    await stopping;
  } finally {
    c.close();
  }
});

test('Health: false serves no health service', async () => {
  const port = await freePort();
  const t = new RpcServer(
    { Name: 'h', ListenOn: `127.0.0.1:${port}`, Mode: 'pro', Timeout: 2000, Health: false },
    () => undefined,
  );
  await t.start();
  const c = new GrpcClient(`127.0.0.1:${port}`, credentials.createInsecure());
  try {
    await expect(healthCheck(c)).rejects.toMatchObject({ code: status.UNIMPLEMENTED });
  } finally {
    c.close();
    await t.stop(0);
  }
});

test('server Timeout: a handler slower than Timeout is answered DEADLINE_EXCEEDED at Timeout', async () => {
  const port = await freePort();
  const s = instance('slow', port, undefined, { delayMs: 1500, timeoutMs: 200 });
  await s.start();
  const c = new GrpcClient(`127.0.0.1:${port}`, credentials.createInsecure());
  try {
    const start = Date.now();
    await expect(callOnce(c, 5000)).rejects.toMatchObject({
      code: status.DEADLINE_EXCEEDED,
      details: expect.stringMatching(/server Timeout of 200 ms/),
    });
    expect(Date.now() - start).toBeLessThan(1000);
  } finally {
    c.close();
    await s.stop(0);
  }
});

test('stop drains in-flight calls (go-zero 5.5 s), and cuts what outlives the grace', { timeout: 15_000 }, async () => {
  expect(DRAIN_MS).toBe(5500);
  const port = await freePort();
  const s = instance('d', port, undefined, { delayMs: 800, timeoutMs: 0 });
  await s.start();
  const c = new GrpcClient(`127.0.0.1:${port}`, credentials.createInsecure());
  try {
    const inflight = callOnce(c, 5000);
    await new Promise((r) => setTimeout(r, 100));
    await s.stop();
    expect(await inflight).toBe('d'); // finished, not cut

    const port2 = await freePort();
    const s2 = instance('d2', port2, undefined, { delayMs: 3000, timeoutMs: 0 });
    await s2.start();
    const c2 = new GrpcClient(`127.0.0.1:${port2}`, credentials.createInsecure());
    const long = callOnce(c2, 5000).catch((e: { code: number }) => e.code);
    await new Promise((r) => setTimeout(r, 100));
    const t = Date.now();
    await s2.stop(500);
    expect(Date.now() - t).toBeLessThan(1500);
    expect([status.CANCELLED, status.UNAVAILABLE]).toContain(await long); // cut, not answered
    c2.close();
  } finally {
    c.close();
  }
});

test('p2c by default: a slow instance gets far fewer calls; round_robin is selectable and splits evenly', {
  timeout: 20_000,
}, async () => {
  const key = newKey();
  const etcd = { Hosts: etcdEndpoints, Key: key };
  const fast = instance('fast', await freePort(), etcd);
  const slow = instance('slow', await freePort(), etcd, { delayMs: 100 });
  await fast.start();
  await slow.start();
  const share = async (client: Client): Promise<number> => {
    const l = load(client, 4, 5);
    await new Promise((r) => setTimeout(r, 2500));
    const r = await l.stop();
    expect(r.failed).toBe(0);
    return r.hits.filter((h) => h === 'slow').length / r.hits.length;
  };
  const p2c = await newRpcClient({ Etcd: etcd, NonBlock: false, Timeout: 2000 });
  const rr = await newRpcClient({ Etcd: etcd, NonBlock: false, Timeout: 2000 }, { balancer: 'round_robin' });
  try {
    await new Promise((r) => setTimeout(r, 300)); // both instances connected
    expect(await share(p2c)).toBeLessThan(0.2);
    const even = await share(rr);
    expect(even).toBeGreaterThan(0.3);
    expect(even).toBeLessThan(0.7);
  } finally {
    p2c.close();
    rr.close();
    await fast.stop(0);
    await slow.stop(0);
  }
});

test('client NonBlock: false and nothing registered: a clear error within ~3 s, not a hang', async () => {
  const key = newKey();
  const start = Date.now();
  await expect(
    newRpcClient({ Etcd: { Hosts: etcdEndpoints, Key: key }, NonBlock: false, Timeout: 2000 }),
  ).rejects.toThrow(
    new RegExp(
      `rpc dial etcd://.*/${key}: not ready within 3000 ms \\(.*nothing is registered in etcd under "${key}/"\\)`,
    ),
  );
  expect(Date.now() - start).toBeLessThan(8000);

  // NonBlock: true returns at once; a call then fails fast naming the key.
  const c = await newRpcClient({ Etcd: { Hosts: etcdEndpoints, Key: key }, NonBlock: true, Timeout: 2000 });
  try {
    await expect(callOnce(c)).rejects.toThrow(new RegExp(`no instance is registered in etcd under "${key}/"`));
  } finally {
    c.close();
  }
});

test('client Timeout: every call gets that deadline', async () => {
  const port = await freePort();
  const s = instance('slow', port, undefined, { delayMs: 1500, timeoutMs: 0 });
  await s.start();
  const c = await newRpcClient({ Endpoints: [`127.0.0.1:${port}`], NonBlock: false, Timeout: 300 });
  try {
    const start = Date.now();
    await expect(callOnce(c, 10_000)).rejects.toMatchObject({ code: status.DEADLINE_EXCEEDED });
    expect(Date.now() - start).toBeLessThan(1000);
  } finally {
    c.close();
    await s.stop(0);
  }
});

test('ListenOn 127.0.0.1:0: the server listens on a port the system picks and publishes that port, never ":0"', async () => {
  const key = newKey();
  const s = instance('zero', 0, { Hosts: etcdEndpoints, Key: key });
  await s.start();
  try {
    expect(s.port).toBeGreaterThan(0);
    const etcd = new Etcd3({ hosts: etcdEndpoints.map((h) => `http://${h}`) });
    try {
      expect(Object.values(await etcd.getAll().prefix(`${key}/`).strings())).toEqual([`127.0.0.1:${s.port}`]);
    } finally {
      etcd.close();
    }
    const c = new GrpcClient(`127.0.0.1:${s.port}`, credentials.createInsecure());
    try {
      expect(await healthCheck(c)).toBe(1);
    } finally {
      c.close();
    }
  } finally {
    await s.stop(0);
  }
});

test('start() with etcd down rejects with ServerStartError naming etcd, and frees the port', async () => {
  const port = await freePort();
  const dead = await freePort();
  const s = instance('nodetcd', port, { Hosts: [`127.0.0.1:${dead}`], Key: newKey() });
  const err = await s.start().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ServerStartError);
  expect((err as Error).message).toMatch(new RegExp(`etcd at 127\\.0\\.0\\.1:${dead} is unreachable`));
});
