// go-zero keys that change how a real client or server behaves: v1.10's BalancerName on a client, and
// Shutdown.WaitTime bounding a server's drain; and a direct:/// client living through its server's drain.
import { randomUUID } from 'node:crypto';
import { DIRECT_DRAIN, freePort, root, runNode } from '@dtm-gozero/devkit';
import { callOnce, instance, load } from '@dtm-gozero/devkit/gozero';
import { testStack } from '@dtm-gozero/devkit/stack';
import { credentials, Client as GrpcClient } from '@grpc/grpc-js';
import { afterAll, expect, test } from 'vitest';
import { closeEtcdClients } from '../discov/clients.ts';
import { newRpcClient } from './client.ts';

afterAll(() => closeEtcdClients());
const { etcdEndpoints } = testStack();

test('BalancerName: round_robin from the conf splits the calls evenly where p2c would favour the fast one', {
  timeout: 20_000,
}, async () => {
  const etcd = { Hosts: etcdEndpoints, Key: `bal-${randomUUID().slice(0, 8)}` };
  const fast = instance('fast', await freePort(), etcd);
  const slow = instance('slow', await freePort(), etcd, { delayMs: 100 });
  await fast.start();
  await slow.start();
  const rr = await newRpcClient({ Etcd: etcd, NonBlock: false, Timeout: 2000, BalancerName: 'round_robin' });
  try {
    await new Promise((r) => setTimeout(r, 300)); // both instances connected
    const l = load(rr, 4, 5);
    await new Promise((r) => setTimeout(r, 2500));
    const r = await l.stop();
    expect(r.failed).toBe(0);
    const share = r.hits.filter((h) => h === 'slow').length / r.hits.length;
    expect(share).toBeGreaterThan(0.3);
    expect(share).toBeLessThan(0.7);
  } finally {
    rr.close();
    await fast.stop(0);
    await slow.stop(0);
  }
});

test('Shutdown.WaitTime bounds the drain of stop(): a call still running then is cut', {
  timeout: 20_000,
}, async () => {
  const port = await freePort();
  const s = instance('long', port, undefined, { delayMs: 5000, timeoutMs: 10_000 });
  Object.assign(s.conf, { Shutdown: { WrapUpTime: 0, WaitTime: 300 } });
  await s.start();
  // A plain client: with a direct:/// target (newRpcClient and Endpoints) the resolver spins while the server drains.
  const c = new GrpcClient(`127.0.0.1:${port}`, credentials.createInsecure());
  try {
    const call = callOnce(c, 10_000).catch((err: Error) => err.message);
    await new Promise((r) => setTimeout(r, 200)); // in flight
    const started = Date.now();
    await s.stop();
    expect(Date.now() - started).toBeLessThan(2000); // not go-zero's default 5.5 s, nor the call's 5 s
    expect(await call).toMatch(/CANCELLED|UNAVAILABLE/);
  } finally {
    c.close();
  }
});

test('a direct:/// client (Endpoints) while its server drains, then returns: the process keeps running, calls resume', {
  timeout: 30_000,
}, async () => {
  const p = runNode(DIRECT_DRAIN, [String(await freePort())], root);
  try {
    await p.waitFor(/^stopped$/m, 10_000);
    await p.waitFor(/^back b$/m, 15_000);
    expect(await p.exited(10_000)).toBe(0);
  } finally {
    p.kill('SIGKILL');
  }
});
