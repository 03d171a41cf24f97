import { beforeEach, describe, expect, test, vi } from 'vitest';
import { IMAGES, ProbeWait, startDocker } from './docker.ts';
import { readSharedDtmConfig } from './dtm-config.ts';

// startDocker's use of testcontainers, checked against a recording stand-in (there is no Docker engine here).
interface Rec {
  image: string;
  networkMode?: string;
  command?: string[];
  env?: Record<string, string>;
  labels?: Record<string, string>;
  copies?: { target: string; content: string }[];
  tmpfs?: Record<string, string>;
  wait?: unknown;
  startupTimeout?: number;
  stopped?: unknown;
}
const rec = vi.hoisted(() => ({ containers: [] as Rec[], stopOrder: [] as string[], failOn: '' }));

vi.mock('testcontainers', () => {
  class GenericContainer {
    r: Rec;
    constructor(image: string) {
      this.r = { image };
      rec.containers.push(this.r);
    }
    withNetworkMode(m: string) {
      this.r.networkMode = m;
      return this;
    }
    withCommand(c: string[]) {
      this.r.command = c;
      return this;
    }
    withEnvironment(e: Record<string, string>) {
      this.r.env = e;
      return this;
    }
    withLabels(l: Record<string, string>) {
      this.r.labels = l;
      return this;
    }
    withLogConsumer() {
      return this;
    }
    withWaitStrategy(w: unknown) {
      this.r.wait = w;
      return this;
    }
    withStartupTimeout(ms: number) {
      this.r.startupTimeout = ms;
      return this;
    }
    withCopyContentToContainer(c: { target: string; content: string }[]) {
      this.r.copies = c;
      return this;
    }
    withTmpFs(t: Record<string, string>) {
      this.r.tmpfs = t;
      return this;
    }
    async start() {
      if (rec.failOn && this.r.image === rec.failOn) throw new Error('container failed to be ready');
      const r = this.r;
      return {
        getId: () => `id-${r.image}`,
        stop: async (o: unknown) => {
          r.stopped = o;
          rec.stopOrder.push(r.image);
        },
      };
    }
  }
  return { GenericContainer };
});

const run = (store: 'boltdb' | 'mysql' | 'redis') =>
  startDocker({ store, shared: readSharedDtmConfig(), timeoutMs: 60_000, stopTimeoutMs: 4000, log: () => {} });

beforeEach(() => {
  rec.containers.length = 0;
  rec.stopOrder.length = 0;
  rec.failOn = '';
});

describe('startDocker (testcontainers stand-in)', () => {
  test('boltdb: etcd then dtm, host network, probes as wait strategies, stop in reverse order', async () => {
    const stack = await run('boltdb');
    expect(rec.containers.map((c) => c.image)).toEqual([IMAGES.etcd, IMAGES.dtm]);
    const [etcd, dtm] = rec.containers as [Rec, Rec];
    for (const c of rec.containers) {
      expect(c.networkMode).toBe('host');
      expect(c.wait).toBeInstanceOf(ProbeWait);
      expect(c.startupTimeout).toBeGreaterThan(50_000);
      expect(c.labels?.['dtm-gozero.testkit.stack']).toMatch(/^[0-9a-f]+$/);
    }
    expect(etcd.tmpfs).toEqual({ '/var/lib/etcd': 'rw' });
    expect(etcd.command).toContain(`--listen-client-urls=http://127.0.0.1:${stack.ports.etcdClient}`);
    expect(dtm.command).toEqual(['-c', '/app/dtm/configs/config.yaml']);
    expect(dtm.env).toMatchObject({
      MICRO_SERVICE_DRIVER: 'dtm-driver-gozero',
      MICRO_SERVICE_TARGET: stack.dtmTarget,
      MICRO_SERVICE_END_POINT: stack.dtmGrpc,
      HTTP_PORT: String(stack.ports.dtmHttp),
      GRPC_PORT: String(stack.ports.dtmGrpc),
      STORE_DRIVER: 'boltdb',
    });
    expect(dtm.copies?.[0]?.target).toBe('/app/dtm/configs/config.yaml');
    expect(dtm.copies?.[0]?.content).toBe(stack.dtmConfig);
    expect(stack).toMatchObject({
      backend: 'docker',
      store: 'boltdb',
      pids: [],
      containerIds: [`id-${IMAGES.etcd}`, `id-${IMAGES.dtm}`],
      etcdEndpoints: [`127.0.0.1:${stack.ports.etcdClient}`],
      dtmHttp: `http://127.0.0.1:${stack.ports.dtmHttp}`,
    });
    await stack.stop();
    await stack.stop();
    expect(rec.stopOrder).toEqual([IMAGES.dtm, IMAGES.etcd]);
    expect(dtm.stopped).toEqual({ timeout: 4000, remove: true, removeVolumes: true });
  });

  test('mysql: a MySQL container first, with the DDL; dtm points at its port', async () => {
    const stack = await run('mysql');
    expect(rec.containers.map((c) => c.image)).toEqual([IMAGES.mysql, IMAGES.etcd, IMAGES.dtm]);
    const [mysql, , dtm] = rec.containers as [Rec, Rec, Rec];
    expect(mysql.command).toContain(`--port=${stack.ports.store}`);
    expect(mysql.copies?.[0]?.target).toBe('/docker-entrypoint-initdb.d/01-dtm-storage.sql');
    expect(dtm.env).toMatchObject({ STORE_DRIVER: 'mysql', STORE_PORT: String(stack.ports.store), STORE_DB: 'dtm' });
    expect(dtm.env?.STORE_PASSWORD).toBe(mysql.env?.MARIADB_ROOT_PASSWORD);
    expect(stack.mysqlDatabase).toBe('dtm');
    await stack.stop();
    expect(rec.stopOrder).toEqual([IMAGES.dtm, IMAGES.etcd, IMAGES.mysql]);
  });

  test('a container that fails: what was started is removed, the error names the container', async () => {
    rec.failOn = IMAGES.dtm;
    await expect(run('redis')).rejects.toThrow(/docker backend, starting dtm: container failed to be ready/);
    expect(rec.stopOrder).toEqual([IMAGES.etcd, IMAGES.redis]);
  });
});

describe('ProbeWait', () => {
  const container = (running: boolean) =>
    ({ inspect: async () => ({ State: { Running: running, ExitCode: running ? 0 : 3 } }) }) as never;

  test('resolves once the probe says ready', async () => {
    let n = 0;
    const w = new ProbeWait('thing ready', async () => ++n >= 3).withStartupTimeout(5000);
    await expect(w.waitUntilReady(container(true))).resolves.toBeUndefined();
    expect(n).toBe(3);
    expect(w.isStartupTimeoutSet()).toBe(true);
    expect(w.getStartupTimeout()).toBe(5000);
  });

  test('gives up at once when the container exited', async () => {
    const w = new ProbeWait('thing ready', async () => true).withStartupTimeout(60_000);
    const t0 = Date.now();
    await expect(w.waitUntilReady(container(false))).rejects.toThrow('thing ready: the container exited (code 3)');
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  test('times out with what it waited for', async () => {
    const w = new ProbeWait('thing ready', async () => false).withStartupTimeout(300);
    await expect(w.waitUntilReady(container(true))).rejects.toThrow(/thing ready: not reached within 300 ms/);
  });
});
