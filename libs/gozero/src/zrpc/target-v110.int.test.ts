// go-zero v1.10.2+'s target form (`etcd:///h1,h2?key=k`, what its RpcClientConf.BuildTarget yields) through a real
// etcd, in a client config's Target and as a raw grpc-js target; and a typed ts-proto client on newRpcClient's
// channel that keeps the conf's Timeout.
import { randomUUID } from 'node:crypto';
import { freePort } from '@dtm-gozero/devkit';
import { callOnce, instance } from '@dtm-gozero/devkit/gozero';
import { testStack } from '@dtm-gozero/devkit/stack';
import { TransSvcClient } from '@dtm-gozero/proto/trans';
import { Client, credentials, type ServiceError, status } from '@grpc/grpc-js';
import { afterAll, expect, test } from 'vitest';
import { closeEtcdClients } from '../discov/clients.ts';
import { newRpcClient, typedClient } from './client.ts';
import { registerResolvers } from './resolver.ts';
import { buildTarget, buildTargetV110 } from './target.ts';

afterAll(() => closeEtcdClients());
const { etcdEndpoints } = testStack();

test('a go-zero v1.10 Target (etcd:///hosts?key=) resolves through etcd, in a conf and as a raw target', async () => {
  const key = `v110-${randomUUID().slice(0, 8)}`;
  const s = instance('a', await freePort(), { Hosts: etcdEndpoints, Key: key });
  await s.start();
  const target = buildTargetV110(etcdEndpoints, key);
  expect(target).toBe(`etcd:///${etcdEndpoints.join(',')}?key=${key}`);
  const conf = { Target: target, NonBlock: false, Timeout: 2000 };
  // branch URLs are built from buildTarget: v1.4's form, the one dtm's driver splits
  expect(buildTarget(conf)).toBe(`etcd://${etcdEndpoints.join(',')}/${key}`);
  const c = await newRpcClient(conf);
  registerResolvers();
  const raw = new Client(target, credentials.createInsecure());
  try {
    expect(await callOnce(c)).toBe('a');
    expect(await callOnce(raw)).toBe('a');
  } finally {
    c.close();
    raw.close();
    await s.stop(0);
  }
});

test('typedClient: a ts-proto client on the channel of newRpcClient, with its Timeout', async () => {
  const port = await freePort();
  const s = instance('slow', port, undefined, { delayMs: 1500, timeoutMs: 5000 });
  await s.start();
  const c = await newRpcClient({ Endpoints: [`127.0.0.1:${port}`], NonBlock: false, Timeout: 300 });
  const t = typedClient(c, TransSvcClient);
  try {
    expect(t.getChannel()).toBe(c.getChannel());
    const started = Date.now();
    const err = await new Promise<ServiceError | null>((resolve) =>
      t.transOut({ Amount: 1n, UserID: 1n }, (e) => resolve(e)),
    );
    expect(err?.code).toBe(status.DEADLINE_EXCEEDED);
    expect(Date.now() - started).toBeLessThan(1400);
  } finally {
    c.close();
    await s.stop(0);
  }
});
