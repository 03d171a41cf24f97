import { randomUUID } from 'node:crypto';
import { freePort, until } from '@dtm-gozero/devkit';
import { testStack } from '@dtm-gozero/devkit/stack';
import { type AdjustInfo, type Response, TransSvcService } from '@dtm-gozero/proto/trans';
import { Client, credentials, type ServerUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import { afterAll, expect, test } from 'vitest';
import { closeEtcdClients } from '../discov/clients.ts';
import { registerResolvers } from './resolver.ts';
import { RpcServer } from './server.ts';

afterAll(() => closeEtcdClients());

// Instances register in the etcd of the integration global setup (@dtm-gozero/testkit, a free port).
const { etcdEndpoints } = testStack();
const etcdHost = etcdEndpoints[0] as string;

/** A TransSvc instance that records which instance answered. */
function instance(name: string, key: string, port: number, hits: string[]): RpcServer {
  const handler = (_call: ServerUnaryCall<AdjustInfo, Response>, cb: sendUnaryData<Response>): void => {
    hits.push(name);
    cb(null, {});
  };
  return new RpcServer(
    {
      Name: name,
      ListenOn: `127.0.0.1:${port}`,
      Mode: 'pro',
      Timeout: 2000,
      Etcd: { Hosts: etcdEndpoints, Key: key },
    },
    (s) => s.addService(TransSvcService, { transIn: handler, transOut: handler }),
  );
}

function call(client: Client): Promise<void> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      TransSvcService.transOut.path,
      TransSvcService.transOut.requestSerialize,
      TransSvcService.transOut.responseDeserialize,
      { Amount: 1n, UserID: 1n },
      { deadline: Date.now() + 3000 },
      (err) => (err ? reject(err) : resolve()),
    );
  });
}

async function callsUntil(
  client: Client,
  hits: string[],
  want: (hits: string[]) => boolean,
  ms: number,
): Promise<void> {
  await until(
    async () => {
      hits.length = 0;
      for (let i = 0; i < 6; i++) await call(client).catch(() => undefined);
      return want(hits);
    },
    ms,
    'calls satisfied the condition',
  ).catch((err: Error) => {
    throw new Error(`${err.message}; last hits: ${hits.join(',')}`);
  });
}

test('etcd://host/key follows registrations and removals live', { timeout: 30_000 }, async () => {
  registerResolvers();
  const key = `res-${randomUUID().slice(0, 8)}`;
  const hits: string[] = [];
  // Port 0 would be published as is; pick real ports first.
  const ports = await Promise.all([freePort(), freePort(), freePort()]);
  const A = instance('a', key, ports[0] as number, hits);
  const B = instance('b', key, ports[1] as number, hits);
  await A.start();
  const client = new Client(`etcd://${etcdHost}/${key}`, credentials.createInsecure());
  try {
    await callsUntil(client, hits, (h) => h.length === 6 && h.every((x) => x === 'a'), 5000);

    await B.start(); // added while the client is connected
    await callsUntil(client, hits, (h) => h.includes('a') && h.includes('b'), 5000);

    await A.stop(); // removed: every call now lands on b
    await callsUntil(client, hits, (h) => h.length === 6 && h.every((x) => x === 'b'), 5000);

    const C = instance('c', key, ports[2] as number, hits);
    await C.start();
    await callsUntil(client, hits, (h) => h.includes('c'), 5000);
    await C.stop();
  } finally {
    client.close();
    await B.stop();
  }
});

test('nothing registered: calls fail fast with UNAVAILABLE naming the key', async () => {
  registerResolvers();
  const key = `res-none-${randomUUID().slice(0, 8)}`;
  const client = new Client(`etcd://${etcdHost}/${key}`, credentials.createInsecure());
  try {
    await expect(call(client)).rejects.toThrow(new RegExp(`no instance is registered in etcd under "${key}/"`));
  } finally {
    client.close();
  }
});

test('direct:///a,b resolves a fixed list', async () => {
  registerResolvers();
  const hits: string[] = [];
  const port = await freePort();
  const s = instance('d', 'unused', port, hits);
  // No Etcd: a direct target needs no registration.
  (s.conf as { Etcd?: unknown }).Etcd = undefined;
  await s.start();
  const client = new Client(`direct:///127.0.0.1:${port}`, credentials.createInsecure());
  try {
    await call(client);
    expect(hits).toEqual(['d']);
  } finally {
    client.close();
    await s.stop();
  }
});

test('updates apply in order, the newest wins: rapid flips between two instances end on the last one', {
  timeout: 20_000,
}, async () => {
  registerResolvers();
  const { Etcd3 } = await import('etcd3');
  const { callOnce, instance } = await import('@dtm-gozero/devkit/gozero');
  const kv = new Etcd3({ hosts: `http://${etcdHost}` });
  const key = `res-order-${randomUUID().slice(0, 8)}`;
  const [pa, pb] = [await freePort(), await freePort()];
  const a = instance('a', pa, undefined);
  const b = instance('b', pb, undefined);
  await a.start();
  await b.start();
  // Host names (not IPs) make every report wait for a lookup, so that reports overlap.
  await kv.put(`${key}/a`).value(`localhost:${pa}`);
  const client = new Client(`etcd://${etcdHost}/${key}`, credentials.createInsecure());
  try {
    expect(await callOnce(client)).toBe('a');
    for (let i = 0; i < 15; i++) {
      await Promise.all([kv.delete().key(`${key}/a`), kv.put(`${key}/b`).value(`localhost:${pb}`)]);
      await Promise.all([kv.delete().key(`${key}/b`), kv.put(`${key}/a`).value(`localhost:${pa}`)]);
    }
    await kv.delete().key(`${key}/a`);
    await kv.put(`${key}/b`).value(`localhost:${pb}`);
    await new Promise((r) => setTimeout(r, 1000));
    const hits = [];
    for (let i = 0; i < 10; i++) hits.push(await callOnce(client));
    expect(new Set(hits)).toEqual(new Set(['b']));
  } finally {
    client.close();
    kv.close();
    await a.stop(0);
    await b.stop(0);
  }
});
