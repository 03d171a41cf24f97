import { randomUUID } from 'node:crypto';
import { testStack } from '@dtm-gozero/devkit/stack';
import { Etcd3 } from 'etcd3';
import { afterAll, expect, test } from 'vitest';
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

test('the lease is kept alive past its TTL', async () => {
  const key = `pub-${randomUUID().slice(0, 8)}`;
  const p = new Publisher(conf(key), 'x:1', { ttlSeconds: 2 }); // go-zero's 10 s, shortened for the test
  const registered = await p.keepAlive();
  await new Promise((r) => setTimeout(r, 4000));
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

test('Etcd.ID: registers under <Key>/<ID> instead of the lease id (go-zero WithId)', async () => {
  const key = `pub-${randomUUID().slice(0, 8)}`;
  const p = new Publisher({ ...conf(key), ID: 42 }, 'i:1');
  expect(await p.keepAlive()).toBe(`${key}/42`);
  expect(await etcd.getAll().prefix(`${key}/`).strings()).toEqual({ [`${key}/42`]: 'i:1' });
  await p.stop();
  expect(await etcd.getAll().prefix(`${key}/`).keys()).toEqual([]);
});

test('stop() while the registration is in flight: nothing stays registered', async () => {
  const key = `pub-${randomUUID().slice(0, 8)}`;
  const p = new Publisher(conf(key), 's:1');
  const registering = p.keepAlive().catch((e: Error) => e.message);
  await p.stop();
  expect(await registering).toMatch(/stopped while registering/);
  expect(await etcd.getAll().prefix(`${key}/`).keys()).toEqual([]);
  await expect(p.keepAlive()).rejects.toThrow(/is stopped/);
});

test('several etcd hosts, one of them down: registers through the one that answers', async () => {
  const key = `pub-${randomUUID().slice(0, 8)}`;
  const p = new Publisher({ Hosts: ['127.0.0.1:9', ...etcdEndpoints], Key: key }, 'm:1');
  const registered = await p.keepAlive();
  expect(await etcd.get(registered).string()).toBe('m:1');
  await p.stop();
});

test('a lost registration is made again and said so on stderr, as a logx line (or to onError / onReregister)', async () => {
  const key = `pub-${randomUUID().slice(0, 8)}`;
  const logged: string[] = [];
  const orig = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    logged.push(String(chunk));
    return (orig as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stderr.write;
  try {
    const p = new Publisher(conf(key), 'r:1');
    const first = await p.keepAlive();
    await etcd.leaseClient.leaseRevoke({ ID: first.slice(key.length + 1) });
    const deadline = Date.now() + 8000;
    while (!logged.some((l) => l.includes('registered again')) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    const line = logged
      .join('')
      .split('\n')
      .find((l) => l.includes('registered again')) as string;
    expect(JSON.parse(line)).toMatchObject({
      level: 'error',
      caller: 'discov/publisher.go',
      content: expect.stringMatching(new RegExp(`^etcd publisher: registered again as ${key}/\\d+$`)),
    });
    await p.stop();
  } finally {
    process.stderr.write = orig;
  }
});
