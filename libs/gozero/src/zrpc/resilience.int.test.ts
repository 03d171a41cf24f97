// Discovery under etcd failures (issue 9, item 7), against a real etcd of this file's own that the tests stop,
// kill, wipe and compact. Registrations use a 2 s lease so that the TTL-bound cases take seconds.
import { randomUUID } from 'node:crypto';
import { freePort, until } from '@dtm-gozero/devkit';
import { callOnce, cuttableProxy, instance, load, spawnInstance } from '@dtm-gozero/devkit/gozero';
import { type EtcdServer, startEtcd } from '@dtm-gozero/testkit';
import { Client, credentials } from '@grpc/grpc-js';
import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { closeEtcdClients } from '../discov/clients.ts';
import { registerResolvers } from './resolver.ts';

const TTL_S = 2;
let etcd: EtcdServer;
let kv: Etcd3;

beforeAll(async () => {
  registerResolvers();
  etcd = await startEtcd();
  kv = new Etcd3({ hosts: etcd.url });
}, 30_000);
afterAll(async () => {
  kv?.close();
  closeEtcdClients();
  await etcd?.stop();
});

const newKey = (): string => `res-${randomUUID().slice(0, 8)}`;
const values = async (key: string): Promise<Record<string, string>> => kv.getAll().prefix(`${key}/`).strings();
const dial = (key: string, hosts = etcd.endpoints): Client =>
  new Client(`etcd://${hosts.join(',')}/${key}`, credentials.createInsecure());

test('etcd stopped longer than the lease TTL: registered again within 3 s of etcd answering; a running client follows', {
  timeout: 40_000,
}, async () => {
  const key = newKey();
  const port = await freePort();
  const a = instance('a', port, { Hosts: etcd.endpoints, Key: key }, { ttlSeconds: TTL_S });
  await a.start();
  const client = dial(key);
  try {
    expect(await callOnce(client)).toBe('a');
    await etcd.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, (TTL_S * 2 + 1) * 1000)); // past the TTL (etcd3 gives up at 2 × TTL)
    await etcd.restart();
    const answeredAt = Date.now();
    // The registration that counts is one under a live lease: the old lease expires, ours is kept alive.
    await until(
      async () => Object.values(await values(key).catch(() => ({}))).includes(`127.0.0.1:${port}`),
      3000,
      'registered again',
    );
    expect(Date.now() - answeredAt).toBeLessThan(3000);
    await new Promise((r) => setTimeout(r, (TTL_S + 1) * 1000));
    expect(Object.values(await values(key))).toEqual([`127.0.0.1:${port}`]);
    expect(a.registeredKey && (await kv.get(a.registeredKey).string())).toBe(`127.0.0.1:${port}`);
    expect(await callOnce(client)).toBe('a');
  } finally {
    client.close();
    await a.stop(0);
  }
});

test('etcd killed and started empty; the instance registers again and a second replaces it; calls end on it', {
  timeout: 40_000,
}, async () => {
  // A revision far above what the empty etcd will have: the client's last seen revision is meaningless after.
  for (let i = 0; i < 200; i++) await kv.put(`filler/${i % 5}`).value(String(i));
  const key = newKey();
  const [pa, pb] = [await freePort(), await freePort()];
  const a = instance('a', pa, { Hosts: etcd.endpoints, Key: key }, { ttlSeconds: TTL_S });
  const b = instance('b', pb, { Hosts: etcd.endpoints, Key: key }, { ttlSeconds: TTL_S });
  await a.start();
  const client = dial(key);
  const loop = load(client);
  try {
    await until(() => loop.result.ok > 5, 5000, 'calls to a');
    await etcd.kill('SIGKILL');
    await etcd.restart({ wipe: true });
    await until(async () => Object.keys(await values(key).catch(() => ({}))).length > 0, 5000, 'a registered again');
    await b.start();
    await a.stop();
    const mark = loop.result.hits.length;
    await until(() => loop.result.hits.slice(mark).includes('b'), 5000, 'calls reach b');
    await new Promise((r) => setTimeout(r, 500));
    const tail = loop.result.hits.slice(-10);
    const r = await loop.stop();
    // Calls may fail while etcd lists nothing (go-zero publishes the empty list too), never otherwise.
    for (const e of r.errors)
      expect(e).toMatch(/is gone|no instance is registered|No connection established|UNAVAILABLE/);
    expect(tail.every((h) => h === 'b')).toBe(true);
  } finally {
    await loop.stop();
    client.close();
    await a.stop(0);
    await b.stop(0);
  }
});

test('a watch cancelled by compaction while disconnected: the resolver lists again and a new instance gets calls', {
  timeout: 30_000,
}, async () => {
  const key = newKey();
  const [pa, pb] = [await freePort(), await freePort()];
  const a = instance('a', pa, { Hosts: etcd.endpoints, Key: key });
  const b = instance('b', pb, { Hosts: etcd.endpoints, Key: key });
  await a.start();
  const proxy = await cuttableProxy(Number(etcd.endpoints[0]?.split(':')[1]));
  const client = dial(key, [`127.0.0.1:${proxy.port}`]);
  try {
    expect(await callOnce(client)).toBe('a');
    proxy.cut(); // the client's watch is now behind
    await b.start();
    for (let i = 0; i < 20; i++) await kv.put(`filler/${i}`).value('x');
    const rev = (await kv.get('filler/0').exec()).header.revision;
    await kv.kv.compact({ revision: rev, physical: true }); // the watch's next revision is gone
    proxy.restore();
    const hits: string[] = [];
    await until(
      async () => {
        hits.push(await callOnce(client).catch(() => 'error'));
        return hits.includes('b');
      },
      8000,
      'calls reach b after the re-list',
    );
  } finally {
    client.close();
    proxy.close();
    await a.stop(0);
    await b.stop(0);
  }
});

test('an empty re-list (the key deleted while the watch was cut, then compacted): the client stops calling the stale address, as go-zero', {
  timeout: 30_000,
}, async () => {
  const key = newKey();
  const pa = await freePort();
  // an instance that is up but no longer registered: only the resolver's list decides whether it gets calls
  const a = instance('a', pa, undefined);
  await a.start();
  await kv.put(`${key}/1`).value(`127.0.0.1:${pa}`);
  const proxy = await cuttableProxy(Number(etcd.endpoints[0]?.split(':')[1]));
  const client = dial(key, [`127.0.0.1:${proxy.port}`]);
  try {
    expect(await callOnce(client)).toBe('a');
    proxy.cut();
    await kv.delete().key(`${key}/1`);
    for (let i = 0; i < 20; i++) await kv.put(`filler/${i}`).value('y');
    const rev = (await kv.get('filler/0').exec()).header.revision;
    await kv.kv.compact({ revision: rev, physical: true }); // the watch cannot resume: the client lists again
    proxy.restore();
    await until(
      async () =>
        callOnce(client).then(
          () => false,
          () => true,
        ),
      8000,
      'calls refused after the empty re-list',
    );
    await expect(callOnce(client)).rejects.toThrow(/is gone|no instance is registered/);
  } finally {
    client.close();
    proxy.close();
    await a.stop(0);
  }
});

test('kill -9 of one of two instances: calls keep succeeding, and its key expires within the TTL', {
  timeout: 30_000,
}, async () => {
  const key = newKey();
  const [pa, pb] = [await freePort(), await freePort()];
  const conf = { Hosts: etcd.endpoints, Key: key };
  const a = await spawnInstance('a', pa, conf, TTL_S);
  const b = instance('b', pb, conf, { ttlSeconds: TTL_S });
  await b.start();
  const client = dial(key);
  try {
    await until(
      async () => new Set(await Promise.all(Array.from({ length: 8 }, () => callOnce(client)))).size === 2,
      5000,
      'both used',
    );
    a.kill('SIGKILL');
    await a.exited(5000).catch(() => undefined);
    const killedAt = Date.now();
    // In-flight calls at the kill may fail; every call started after the connection dropped must succeed.
    await new Promise((r) => setTimeout(r, 300));
    const loop = load(client);
    await until(
      async () => Object.keys(await values(key)).length === 1,
      TTL_S * 1000 + 2000,
      'the killed instance key expired',
    );
    expect(Date.now() - killedAt).toBeLessThan(TTL_S * 1000 + 2000);
    await new Promise((r) => setTimeout(r, 300));
    const r = await loop.stop();
    expect(r.errors).toEqual([]);
    expect(r.ok).toBeGreaterThan(10);
    expect(new Set(r.hits)).toEqual(new Set(['b']));
  } finally {
    client.close();
    a.kill('SIGKILL');
    await b.stop(0);
  }
});

test('rolling restart of two instances under steady load: zero failed calls', { timeout: 40_000 }, async () => {
  const key = newKey();
  const conf = { Hosts: etcd.endpoints, Key: key };
  const ports = [await freePort(), await freePort(), await freePort(), await freePort()] as const;
  const a = instance('a', ports[0], conf);
  const b = instance('b', ports[1], conf);
  await a.start();
  await b.start();
  const client = dial(key);
  const loop = load(client, 4, 10);
  try {
    await until(() => loop.result.ok > 20, 5000, 'steady load');
    const a2 = instance('a2', ports[2], conf);
    await a2.start();
    await a.stop();
    const b2 = instance('b2', ports[3], conf);
    await b2.start();
    await b.stop();
    const mark = loop.result.hits.length;
    await until(() => new Set(loop.result.hits.slice(mark)).size === 2, 5000, 'both new instances used');
    const r = await loop.stop();
    expect(r.errors).toEqual([]);
    expect(r.failed).toBe(0);
    expect(new Set(r.hits.slice(mark))).toEqual(new Set(['a2', 'b2']));
    await a2.stop(0);
    await b2.stop(0);
  } finally {
    await loop.stop();
    client.close();
  }
});

test('a registration key deleted by hand is put back within 1 s', { timeout: 15_000 }, async () => {
  const key = newKey();
  const s = instance('a', await freePort(), { Hosts: etcd.endpoints, Key: key });
  await s.start();
  try {
    const registered = s.registeredKey as string;
    await kv.delete().key(registered);
    const took = await until(async () => (await kv.get(registered).string()) !== null, 1000, 'key put back');
    expect(took).toBeLessThan(1000);
  } finally {
    await s.stop(0);
  }
});

/** etcd's own count of open watchers (its /metrics gauge). */
async function watchersOnServer(): Promise<number> {
  const text = await (await fetch(`${etcd.url}/metrics`)).text();
  return Number(/^etcd_debugging_mvcc_watcher_total (\d+)/m.exec(text)?.[1] ?? Number.NaN);
}

test('first resolution while etcd is unreachable: a clear error, then calls succeed about 1 s after etcd answers', {
  timeout: 30_000,
}, async () => {
  const key = newKey();
  const s = instance('a', await freePort(), { Hosts: etcd.endpoints, Key: key });
  await s.start();
  const proxy = await cuttableProxy(Number(etcd.endpoints[0]?.split(':')[1]));
  proxy.cut();
  // grpc-js retries a failed resolution on its reconnect backoff (here 10 s, as it is after a few failures by
  // default); the resolver must not wait for it, it retries on go-zero's 1 s cadence by itself.
  const client = new Client(`etcd://127.0.0.1:${proxy.port}/${key}`, credentials.createInsecure(), {
    'grpc.initial_reconnect_backoff_ms': 10_000,
  });
  try {
    await expect(callOnce(client)).rejects.toThrow(/etcd at 127\.0\.0\.1:\d+ is unreachable or refused the request/);
    await new Promise((r) => setTimeout(r, 3000));
    proxy.restore();
    // Nobody calls meanwhile: the channel becomes ready by the resolver's own retry alone.
    const start = Date.now();
    await new Promise<void>((resolve, reject) =>
      client.waitForReady(Date.now() + 2500, (err) => (err ? reject(err) : resolve())),
    );
    expect(Date.now() - start).toBeLessThan(2500);
    expect(await callOnce(client)).toBe('a');
  } finally {
    client.close();
    proxy.close();
    await s.stop(0);
  }
});

test('no leaked watchers: reconnects replace the watch, closing the client removes it', {
  timeout: 30_000,
}, async () => {
  const key = newKey();
  const s = instance('a', await freePort(), { Hosts: etcd.endpoints, Key: key });
  await s.start();
  const base = await watchersOnServer(); // the publisher's own watch of its key is in here
  const proxy = await cuttableProxy(Number(etcd.endpoints[0]?.split(':')[1]));
  const client = dial(key, [`127.0.0.1:${proxy.port}`]);
  try {
    expect(await callOnce(client)).toBe('a');
    await until(async () => (await watchersOnServer()) === base + 1, 3000, 'one watcher for the client');
    for (let i = 0; i < 4; i++) {
      proxy.cut();
      await new Promise((r) => setTimeout(r, 300));
      proxy.restore();
      await until(async () => (await watchersOnServer()) === base + 1, 5000, `one watcher after reconnect ${i + 1}`);
    }
    expect(await callOnce(client)).toBe('a');
    client.close(); // the resolver is destroyed: its watch is cancelled in etcd
    await until(async () => (await watchersOnServer()) <= base, 5000, 'no watcher left for the client');
  } finally {
    client.close();
    proxy.close();
    await s.stop(0);
  }
});
