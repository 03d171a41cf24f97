// The k8s:// resolver against a real kube-apiserver (@dtm-gozero/testkit's startKubeApiServer, storing in the
// suite's etcd): the pods of a service published as the endpoint-slice controller would, and TransSvc instances
// listening on this machine's non-loopback address (the API server refuses loopback pod IPs) as the pods.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, freePorts } from '@dtm-gozero/devkit';
import { callOnce, instance } from '@dtm-gozero/devkit/gozero';
import { testStack } from '@dtm-gozero/devkit/stack';
import { type KubeApiServer, type KubeServiceAccount, podIp, startEtcd, startKubeApiServer } from '@dtm-gozero/testkit';
import { Client, credentials, status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { PodAddress } from '../../kube/endpoints.ts';
import { EndpointSliceWatcher } from '../../kube/watcher.ts';
import { ResolveError, resolveTarget } from '../resolve.ts';
import { registerResolvers } from '../resolver.ts';
import type { RpcServer } from '../server.ts';

const READ_SLICES = [
  { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] },
];
const ip = podIp();
let kube: KubeApiServer;
let sa: KubeServiceAccount;
const servers: RpcServer[] = [];
const ports: number[] = [];
const clients: Client[] = [];
/** A HOME without ~/.kube/config. */
const emptyHome = mkdtempSync(join(tmpdir(), 'k8s-home-'));
const saved = { KUBECONFIG: process.env.KUBECONFIG, HOST: process.env.KUBERNETES_SERVICE_HOST };

beforeAll(async () => {
  kube = await startKubeApiServer({ etcdEndpoints: testStack().etcdEndpoints });
  sa = await kube.serviceAccount('shop', 'client', READ_SLICES);
  // This process is "outside the cluster": the resolver reads the service account's kubeconfig.
  delete process.env.KUBERNETES_SERVICE_HOST;
  process.env.KUBECONFIG = sa.kubeconfig;
  registerResolvers();
  ports.push(...(await freePorts(3)));
  for (const [i, name] of ['pod-a', 'pod-b', 'pod-c'].entries()) {
    const s = instance(name, ports[i] as number, undefined, { host: ip });
    await s.start();
    servers.push(s);
  }
}, 180_000);

afterAll(async () => {
  for (const c of clients) c.close();
  await Promise.all(servers.map((s) => s.stop()));
  await kube?.stop();
  rmSync(emptyHome, { recursive: true, force: true });
  process.env.KUBECONFIG = saved.KUBECONFIG;
  if (saved.HOST !== undefined) process.env.KUBERNETES_SERVICE_HOST = saved.HOST;
});

const pod = (i: number, extra: { ready?: boolean; terminating?: boolean } = {}) => ({
  ip,
  port: ports[i] as number,
  name: `trans-${i}`,
  ...extra,
});

function client(target: string): Client {
  const c = new Client(target, credentials.createInsecure());
  clients.push(c);
  return c;
}

/** The set of instances `n` calls reached, 60 ms apart (calls that fail are retried until `ms`). */
async function reached(c: Client, n = 30, ms = 30_000): Promise<string[]> {
  const end = Date.now() + ms;
  const hits = new Set<string>();
  let last: unknown;
  for (let i = 0; i < n && Date.now() < end; ) {
    try {
      hits.add(await callOnce(c, 3000));
      i++;
      // Paced: p2c prefers the faster of two pods and force-picks one left idle for 1 s, so a burst of calls
      // can stay on one pod; spread over more than a second, they reach every ready one.
      await new Promise((r) => setTimeout(r, 60));
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  if (hits.size === 0) throw new Error(`no call succeeded within ${ms} ms: ${String(last)}`);
  return [...hits].sort();
}

/** Waits until `n` calls in a row reach exactly `want`. */
async function until(c: Client, want: string[], ms = 45_000): Promise<void> {
  const end = Date.now() + ms;
  let got: string[] = [];
  await eventually(
    async () => {
      got = await reached(c, want.length * 12, Math.max(1000, end - Date.now())).catch(() => []);
      return JSON.stringify(got) === JSON.stringify(want) ? true : undefined;
    },
    ms,
    `calls reaching ${JSON.stringify(want)}`,
    300,
  ).catch(() => {
    throw new Error(`calls reached ${JSON.stringify(got)}, not ${JSON.stringify(want)}, within ${ms} ms`);
  });
}

function failure(c: Client, deadlineMs = 10_000): Promise<{ code: number; details: string; ms: number }> {
  const start = Date.now();
  return callOnce(c, deadlineMs).then(
    (who) => {
      throw new Error(`expected a failure, but ${who} answered`);
    },
    (err: { code: number; details: string }) => ({ code: err.code, details: err.details, ms: Date.now() - start }),
  );
}

describe('k8s://shop/trans:grpc follows the ready pods', () => {
  test('scale-up, p2c over the pods, a not-ready and a terminating pod, scale-down, scale to zero', async () => {
    await kube.publishService('shop', 'trans', [pod(0)]);
    const c = client('k8s://shop/trans:grpc');
    await until(c, ['pod-a']);

    await kube.publishService('shop', 'trans', [pod(0), pod(1), pod(2)]);
    // p2c_ewma picks among all pods: 60 calls reach each of the three.
    await until(c, ['pod-a', 'pod-b', 'pod-c']);

    await kube.publishService('shop', 'trans', [pod(0), pod(1, { ready: false }), pod(2, { terminating: true })]);
    await until(c, ['pod-a']);

    await kube.publishService('shop', 'trans', [pod(1), pod(2)]);
    await until(c, ['pod-b', 'pod-c']);

    await kube.publishService('shop', 'trans', []);
    const f = await (async () => {
      const end = Date.now() + 30_000;
      for (;;) {
        const r = await failure(c).catch(() => undefined);
        if (r || Date.now() > end) return r;
      }
    })();
    expect(f?.code).toBe(status.UNAVAILABLE);
    expect(f?.details).toMatch(/k8s:\/\/shop\/trans:grpc: no EndpointSlice labelled kubernetes.io\/service-name=trans/);
  }, 240_000);

  test("go-zero's form: a port number (the pods' port), and a missing port (the slice's first)", async () => {
    await kube.publishService('shop', 'numbered', [pod(2)]);
    await until(client(`k8s://shop/numbered:${ports[2]}`), ['pod-c']);
    await until(client('k8s://shop/numbered'), ['pod-c']);
    expect(await resolveTarget(`k8s://shop/numbered:${ports[2]}`)).toEqual([`${ip}:${ports[2]}`]);
  }, 120_000);
});

describe('API-server outages and watch expiry', () => {
  test('an API-server restart: the last pods keep serving while it is down, and changes after it are followed', async () => {
    await kube.publishService('shop', 'restart', [pod(0), pod(1)]);
    const c = client('k8s://shop/restart:grpc');
    await until(c, ['pod-a', 'pod-b']);
    await kube.kill();
    // Down: calls still reach both pods (the resolver keeps the last addresses, as the etcd one does).
    try {
      expect(await reached(c, 30, 20_000)).toEqual(['pod-a', 'pod-b']);
    } finally {
      await kube.restart();
    }
    await kube.publishService('shop', 'restart', [pod(2)]);
    await until(c, ['pod-c'], 60_000);
  }, 240_000);

  test('a watch from an expired resourceVersion (410 Gone) relists, without an error', async () => {
    // A server of its own with the watch cache off (watches go to etcd, whose compaction expires them) and watch
    // requests ended by the server after 3–6 s (so the client resumes from its resourceVersion soon).
    const etcd = await startEtcd();
    const k = await startKubeApiServer({
      etcdEndpoints: etcd.endpoints,
      extraArgs: ['--watch-cache=false', '--min-request-timeout=3'],
    });
    try {
      const own = await k.serviceAccount('shop', 'client', READ_SLICES);
      await k.publishService('shop', 'trans', [pod(0)]);
      const updates: PodAddress[][] = [];
      const errors: string[] = [];
      const w = new EndpointSliceWatcher(
        { namespace: 'shop', service: 'trans', port: 'grpc' },
        { update: (a) => updates.push(a), error: (e) => errors.push(e.message) },
        { env: { KUBECONFIG: own.kubeconfig, HOME: emptyHome } },
      );
      w.start();
      try {
        await waitFor(() => updates.length === 1, 30_000, 'the first list');
        expect(w.lists).toBe(1);
        // Move etcd's revision on and compact up to it: the watch's resourceVersion is now gone.
        for (let i = 0; i < 5; i++)
          await k.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `filler-${i}`, namespace: 'shop' } });
        const rev = JSON.parse(await etcd.etcdctl('endpoint', 'status', '-w', 'json'))[0].Status.header.revision;
        await etcd.etcdctl('compact', String(rev));
        await waitFor(() => w.lists >= 2, 60_000, 'a relist after the watch expired');
        expect(errors).toEqual([]);
        // Still watching after the relist.
        await k.publishService('shop', 'trans', [pod(0), pod(1)]);
        await waitFor(() => updates.at(-1)?.length === 2, 30_000, 'the scale-up after the relist');
        expect(updates.at(-1)).toEqual(
          expect.arrayContaining([
            { host: ip, port: ports[0] },
            { host: ip, port: ports[1] },
          ]),
        );
      } finally {
        w.close();
      }
    } finally {
      await k.stop();
      await etcd.stop();
    }
  }, 300_000);
});

describe('bad input: one clear message each, no hang', () => {
  test('a service or namespace that does not exist: calls fail fast naming it (the watch goes on, for when it appears)', async () => {
    // Another namespace needs rights there: the cluster-admin's kubeconfig lists in one that does not exist.
    for (const [target, kubeconfig] of [
      ['k8s://shop/nosuch:grpc', sa.kubeconfig],
      ['k8s://nowhere/trans:grpc', kube.adminKubeconfig],
    ] as const) {
      process.env.KUBECONFIG = kubeconfig;
      const f = await failure(client(target)).finally(() => {
        process.env.KUBECONFIG = sa.kubeconfig;
      });
      expect(f.code).toBe(status.UNAVAILABLE);
      expect(f.details).toMatch(
        /no EndpointSlice labelled kubernetes.io\/service-name=\w+ in namespace "\w+": the service does not exist/,
      );
      expect(f.ms).toBeLessThan(9000);
    }
    await expect(resolveTarget('k8s://shop/nosuch:grpc')).rejects.toMatchObject({
      reason: 'not-registered',
      message: expect.stringMatching(/no EndpointSlice/),
    });
    // …and a service that appears later is picked up by the same channel.
    const c = client('k8s://shop/later:grpc');
    await failure(c);
    await kube.publishService('shop', 'later', [pod(1)]);
    await until(c, ['pod-b']);
  }, 120_000);

  test('a forbidden list/watch names the permission to grant', async () => {
    const nobody = await kube.serviceAccount('shop', 'nobody');
    process.env.KUBECONFIG = nobody.kubeconfig;
    try {
      const f = await failure(client('k8s://shop/trans:grpc'));
      expect(f.code).toBe(status.UNAVAILABLE);
      expect(f.details).toMatch(/forbids list and watch endpointslices in namespace "shop"/);
      expect(f.details).toMatch(/system:serviceaccount:shop:nobody/);
      expect(f.details).toMatch(/grant get, list and watch on endpointslices/);
      expect(f.details).not.toContain(nobody.token);
      const err = await resolveTarget('k8s://shop/trans:grpc').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ResolveError);
      expect((err as ResolveError).reason).toBe('kube-unreachable');
      expect((err as Error).message).toMatch(/forbids list endpointslices/);
    } finally {
      process.env.KUBECONFIG = sa.kubeconfig;
    }
  }, 60_000);

  test('no in-cluster config and no kubeconfig', async () => {
    const home = process.env.HOME;
    process.env.KUBECONFIG = '';
    process.env.HOME = emptyHome;
    try {
      const f = await failure(client('k8s://shop/config-less:grpc'));
      expect(f.details).toMatch(/no Kubernetes configuration for k8s:\/\/ targets: not in a pod .* and no kubeconfig/);
    } finally {
      process.env.HOME = home;
      process.env.KUBECONFIG = sa.kubeconfig;
    }
  }, 60_000);

  test('a malformed target fails the call at once with INVALID_ARGUMENT-worthy text', async () => {
    const f = await failure(client('k8s://shop/Not_A_Service:grpc'));
    expect(f.details).toMatch(/service "Not_A_Service" is not a Kubernetes service name/);
  });
});

async function waitFor(check: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
