import { randomUUID } from 'node:crypto';
import { Etcd3 } from 'etcd3';
import { afterAll, expect, test } from 'vitest';
import { testStack } from '../../../../test/support/stack-context.ts';
import { closeEtcdClients } from './clients.ts';
import { Publisher, TIME_TO_LIVE_S } from './publisher.ts';

// Runs against the real etcd of the integration global setup (@dtm-gozero/testkit, a free port).
const { etcdUrl, etcdEndpoints } = testStack();
const etcd = new Etcd3({ hosts: etcdUrl });
afterAll(() => {
  etcd.close();
  closeEtcdClients();
});

const conf = (key: string) => ({ Hosts: etcdEndpoints, Key: key });

test('registers <Key>/<lease id in decimal> -> value on a 10 s lease, and revokes it on stop', async () => {
  const key = `pub-${randomUUID().slice(0, 8)}`;
  const p = new Publisher(conf(key), '127.0.0.1:50081');
  const registered = await p.keepAlive();
  expect(registered).toMatch(new RegExp(`^${key}/\\d{5,}$`));
  expect(await etcd.getAll().prefix(`${key}/`).strings()).toEqual({ [registered]: '127.0.0.1:50081' });

  // The suffix is the lease id itself (int64 in decimal), carrying the value's TTL.
  const leaseId = registered.slice(key.length + 1);
  const ttl = await etcd.leaseClient.leaseTimeToLive({ ID: leaseId });
  expect(Number(ttl.grantedTTL)).toBe(TIME_TO_LIVE_S);
  expect(Number(ttl.TTL)).toBeGreaterThan(TIME_TO_LIVE_S - 3);

  await p.stop();
  expect(await etcd.getAll().prefix(`${key}/`).keys()).toEqual([]);
});

test('the lease is kept alive past its TTL', { timeout: 20_000 }, async () => {
  const key = `pub-${randomUUID().slice(0, 8)}`;
  const p = new Publisher(conf(key), 'x:1');
  const registered = await p.keepAlive();
  await new Promise((r) => setTimeout(r, (TIME_TO_LIVE_S + 2) * 1000));
  expect(await etcd.get(registered).string()).toBe('x:1');
  await p.stop();
});

test('a lost lease is registered again under a new lease id', async () => {
  const key = `pub-${randomUUID().slice(0, 8)}`;
  let again: string | undefined;
  const p = new Publisher(conf(key), 'y:2', { onReregister: (k) => (again = k) });
  const first = await p.keepAlive();
  await etcd.leaseClient.leaseRevoke({ ID: first.slice(key.length + 1) });
  const deadline = Date.now() + 8000;
  while (!again && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  expect(again).toMatch(new RegExp(`^${key}/\\d+$`));
  expect(again).not.toBe(first);
  expect(await etcd.getAll().prefix(`${key}/`).strings()).toEqual({ [again as string]: 'y:2' });
  await p.stop();
  expect(await etcd.getAll().prefix(`${key}/`).keys()).toEqual([]);
});

test('etcd down: keepAlive rejects with a clear error, within seconds', async () => {
  const p = new Publisher({ Hosts: ['127.0.0.1:9'], Key: 'nobody' }, 'z:3');
  const started = Date.now();
  await expect(p.keepAlive()).rejects.toThrow(/etcd at 127\.0\.0\.1:9 is unreachable.*start etcd/);
  expect(Date.now() - started).toBeLessThan(10_000);
});
