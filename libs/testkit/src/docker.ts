import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import type { GenericContainer, StartedTestContainer, WaitStrategy } from 'testcontainers';
import { onProcessExit } from './cleanup.ts';
import { type DtmConfig, dtmConfig, dtmConfigYaml, dtmEnv, type StoreSettings } from './dtm-config.ts';
import { TestkitError } from './errors.ts';
import { DTM_SERVICE_KEY, etcdArgs } from './etcd-args.ts';
import { MYSQL_STORAGE_DDL } from './paths.ts';
import { freePorts, releasePorts } from './ports.ts';
import { dtmPing, dtmRegistered, etcdHealthy, waitUntil } from './probe.ts';
import { type DtmStore, mysqlReady, mysqlStore, type RedisServer, redisReady, redisStore, stackId } from './stores.ts';
import type { DtmStack, DtmStackPorts } from './types.ts';

/**
 * Images of the docker backend: etcd, dtm and MySQL are those of docker-compose.yml (a unit test keeps them equal);
 * compose has no Redis, so that one is ours.
 */
export const IMAGES = {
  etcd: 'gcr.io/etcd-development/etcd:v3.4.23',
  dtm: 'yedf/dtm:1.19.0',
  mysql: 'mariadb:10.11.19',
  redis: 'redis:7.0.15',
} as const;

/** Where the dtm image reads `-c` from (as the compose stack and dtm's chart mount it). */
export const DTM_CONFIG_IN_CONTAINER = '/app/dtm/configs/config.yaml';

/** One container of a stack, as plain data (what `GenericContainer` is built from; unit-tested without Docker). */
export interface ContainerSpec {
  role: 'etcd' | 'dtm' | 'mysql' | 'redis';
  image: string;
  command: string[];
  env: Record<string, string>;
  files: { target: string; content: string }[];
  tmpfs: Record<string, string>;
  /** Always `host`, as in docker-compose.yml: every address means the same to the host, the containers and dtm. */
  networkMode: 'host';
}

/** Inputs of `containerSpecs`. */
export interface DockerPlan {
  id: string;
  store: DtmStore;
  shared: DtmConfig;
  ports: DtmStackPorts;
  /** Store `mysql`: root password of the throw-away MySQL. */
  mysqlPassword: string;
  /** Store `mysql`: the storage DDL (the project's file, applied as MySQL's init script, as compose does). */
  mysqlDdl: string;
}

/** dtm's store settings for the docker plan. */
export function dockerStore(plan: Pick<DockerPlan, 'store' | 'ports' | 'mysqlPassword' | 'id'>): StoreSettings {
  const port = plan.ports.store ?? 0;
  if (plan.store === 'mysql') {
    return mysqlStore({ host: '127.0.0.1', port, user: 'root', password: plan.mysqlPassword }, 'dtm');
  }
  if (plan.store === 'redis') return redisStore({ host: '127.0.0.1', port }, `{dtm-tk-${plan.id}}`);
  return { Driver: 'boltdb' };
}

/**
 * The containers of one stack, in start order (store, etcd, then dtm). dtm gets its settings the way the compose
 * stack gives them: a config file derived from infra/dtm/config.yml (with this stack's target, end point and
 * ports, which the shared file would otherwise pin to the fixed ports) mounted at `-c`, and the store as STORE_*
 * variables; the file has no Store, and its other keys are also passed as variables (§6.1 names), so the env alone
 * describes the same dtm.
 */
export function containerSpecs(plan: DockerPlan): ContainerSpec[] {
  const { ports } = plan;
  const specs: ContainerSpec[] = [];
  const base = { env: {}, files: [], tmpfs: {}, networkMode: 'host' as const };
  if (plan.store === 'mysql') {
    specs.push({
      ...base,
      role: 'mysql',
      image: IMAGES.mysql,
      command: ['--bind-address=127.0.0.1', `--port=${ports.store}`],
      env: { MARIADB_ROOT_PASSWORD: plan.mysqlPassword },
      files: [{ target: '/docker-entrypoint-initdb.d/01-dtm-storage.sql', content: plan.mysqlDdl }],
    });
  } else if (plan.store === 'redis') {
    specs.push({
      ...base,
      role: 'redis',
      image: IMAGES.redis,
      command: [
        'redis-server',
        '--bind',
        '127.0.0.1',
        '--port',
        String(ports.store),
        '--save',
        '',
        '--appendonly',
        'no',
      ],
    });
  }
  specs.push({
    ...base,
    role: 'etcd',
    image: IMAGES.etcd,
    command: [
      '/usr/local/bin/etcd',
      ...etcdArgs({
        name: `testkit-${plan.id}`,
        dataDir: '/var/lib/etcd/data',
        clientPort: ports.etcdClient,
        peerPort: ports.etcdPeer,
      }),
    ],
    tmpfs: { '/var/lib/etcd': 'rw' },
  });
  const addr = {
    target: `etcd://127.0.0.1:${ports.etcdClient}/${DTM_SERVICE_KEY}`,
    endPoint: `127.0.0.1:${ports.dtmGrpc}`,
    httpPort: ports.dtmHttp,
    grpcPort: ports.dtmGrpc,
  };
  const file = dtmConfig(plan.shared, addr);
  const store = dockerStore(plan);
  specs.push({
    ...base,
    role: 'dtm',
    image: IMAGES.dtm,
    command: ['-c', DTM_CONFIG_IN_CONTAINER],
    // IS_DOCKER stays unset: it would rewrite localhost to host.docker.internal.
    env: dtmEnv({ ...file, Store: store }),
    files: [{ target: DTM_CONFIG_IN_CONTAINER, content: dtmConfigYaml(file) }],
  });
  return specs;
}

type ContainerHandle = Parameters<WaitStrategy['waitUntilReady']>[0];

/**
 * A testcontainers wait strategy that polls our own readiness check (host networking has no mapped ports for
 * testcontainers' own strategies), and gives up at once when the container exits.
 */
export class ProbeWait implements WaitStrategy {
  #timeoutMs = 60_000;
  #set = false;
  readonly #check: () => Promise<boolean>;
  readonly #what: string;
  constructor(what: string, check: () => Promise<boolean>) {
    this.#what = what;
    this.#check = check;
  }
  async waitUntilReady(container: ContainerHandle): Promise<void> {
    let exited: string | undefined;
    const check = async (): Promise<boolean> => {
      const info = await container.inspect();
      if (!info.State.Running) {
        exited = `the container exited (code ${info.State.ExitCode})`;
        return false;
      }
      return this.#check();
    };
    await waitUntil(check, this.#timeoutMs, this.#what, () => exited, 250);
  }
  withStartupTimeout(ms: number): this {
    this.#timeoutMs = ms;
    this.#set = true;
    return this;
  }
  isStartupTimeoutSet(): boolean {
    return this.#set;
  }
  getStartupTimeout(): number {
    return this.#timeoutMs;
  }
}

/** Everything the docker backend needs, resolved by `startDtmStack`. */
export interface DockerRunPlan {
  store: DtmStore;
  shared: DtmConfig;
  timeoutMs: number;
  stopTimeoutMs: number;
  log: (line: string) => void;
}

function logLines(role: string, log: (line: string) => void, tail: string[]): (stream: Readable) => void {
  return (stream) => {
    let partial = '';
    stream.on('data', (d: Buffer | string) => {
      const lines = (partial + d.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        tail.push(line);
        if (tail.length > 40) tail.shift();
        log(`[${role}] ${line}`);
      }
    });
  };
}

/**
 * testcontainers' reaper (Ryuk) is a container of its own, from an image to pull, and needs a bridge network; the
 * testkit removes its containers itself (stop(), and `docker rm -f` when the process exits first), so it turns
 * Ryuk off with testcontainers' documented switch unless the caller set that switch.
 */
export const RYUK_SWITCH = 'TESTCONTAINERS_RYUK_DISABLED';

/**
 * Every container of the testkit uses the host's network, so the host that serves their ports is loopback.
 * testcontainers' documented TESTCONTAINERS_HOST_OVERRIDE says so; without it, inside a container (/.dockerenv)
 * testcontainers looks the host up from the `bridge` network, and fails where the engine runs without one
 * (dockerd --bridge=none, as npm run docker:setup starts it).
 */
export function testcontainersDefaults(env: NodeJS.ProcessEnv = process.env): void {
  env[RYUK_SWITCH] ??= 'true';
  env.TESTCONTAINERS_HOST_OVERRIDE ??= '127.0.0.1';
}

/** Removes containers synchronously (for the process-exit path, where nothing async runs any more). */
function removeContainersSync(ids: string[]): void {
  if (ids.length === 0) return;
  execFileSync('docker', ['rm', '-f', '-v', ...ids], { stdio: 'ignore', timeout: 30_000 });
}

/** Starts the stack's containers (host networking, free host ports) with testcontainers. */
export async function startDocker(run: DockerRunPlan): Promise<DtmStack> {
  testcontainersDefaults();
  const { GenericContainer: Container } = await import('testcontainers');
  const deadline = Date.now() + run.timeoutMs;
  const left = (): number => Math.max(1000, deadline - Date.now());
  const id = stackId();
  const n = run.store === 'boltdb' ? 4 : 5;
  const [etcdClient, etcdPeer, dtmHttp, dtmGrpc, storePort] = (await freePorts(n)) as number[] as [
    number,
    number,
    number,
    number,
    number | undefined,
  ];
  const ports: DtmStackPorts = { etcdClient, etcdPeer, dtmHttp, dtmGrpc, store: storePort };
  const plan: DockerPlan = {
    id,
    store: run.store,
    shared: run.shared,
    ports,
    mysqlPassword: `tk-${stackId()}`,
    mysqlDdl: run.store === 'mysql' ? readFileSync(MYSQL_STORAGE_DDL, 'utf8') : '',
  };
  const etcdUrl = `http://127.0.0.1:${etcdClient}`;
  const dtmUrl = `http://127.0.0.1:${dtmHttp}`;
  const endPoint = `127.0.0.1:${dtmGrpc}`;
  const store = dockerStore(plan);
  const probes: Record<ContainerSpec['role'], [string, () => Promise<boolean>]> = {
    etcd: [`etcd at ${etcdUrl} healthy`, () => etcdHealthy(etcdUrl)],
    mysql: [
      `MySQL at 127.0.0.1:${storePort} with dtm's tables`,
      () => mysqlReady({ host: '127.0.0.1', port: storePort ?? 0, user: 'root', password: plan.mysqlPassword }, 'dtm'),
    ],
    redis: [
      `Redis at 127.0.0.1:${storePort}`,
      () => redisReady({ host: '127.0.0.1', port: storePort ?? 0 } as RedisServer),
    ],
    dtm: [
      `dtm at ${dtmUrl}/api/ping and registered as ${endPoint} in etcd`,
      async () => (await dtmPing(dtmUrl)) && (await dtmRegistered(etcdUrl, DTM_SERVICE_KEY, endPoint)),
    ],
  };

  const started: StartedTestContainer[] = [];
  const unregister = onProcessExit(() => removeContainersSync(started.map((c) => c.getId())));
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      unregister();
      const errors: unknown[] = [];
      for (const c of [...started].reverse()) {
        await c.stop({ timeout: run.stopTimeoutMs, remove: true, removeVolumes: true }).catch((e) => errors.push(e));
      }
      releasePorts(Object.values(ports).filter((p): p is number => p !== undefined));
      if (errors.length > 0) throw new AggregateError(errors, 'dtm stack: stop() did not remove every container');
    })());

  const tails: Record<string, string[]> = {};
  let current = '';
  try {
    for (const spec of containerSpecs(plan)) {
      current = spec.role;
      tails[spec.role] = [];
      const [what, check] = probes[spec.role];
      let c: GenericContainer = new Container(spec.image)
        .withNetworkMode(spec.networkMode)
        .withCommand(spec.command)
        .withEnvironment(spec.env)
        .withLabels({ 'dtm-gozero.testkit.stack': id, 'dtm-gozero.testkit.role': spec.role })
        .withLogConsumer(logLines(spec.role, run.log, tails[spec.role] ?? []))
        .withWaitStrategy(new ProbeWait(what, check))
        .withStartupTimeout(left());
      if (spec.files.length > 0) c = c.withCopyContentToContainer(spec.files);
      if (Object.keys(spec.tmpfs).length > 0) c = c.withTmpFs(spec.tmpfs);
      run.log(`[testkit] starting ${spec.role} (${spec.image})`);
      started.push(await c.start());
    }
  } catch (err) {
    await stop().catch(() => {});
    const msg = err instanceof Error ? err.message : String(err);
    const tail = tails[current]?.length ? `; last lines of ${current}:\n${tails[current]?.join('\n')}` : '';
    throw new TestkitError(`docker backend, starting ${current}: ${msg}${tail}`, { cause: err });
  }
  run.log(`[testkit] up (docker): etcd ${etcdUrl}, dtm grpc ${endPoint}, http ${dtmUrl}, store ${run.store}`);
  const dtmSpec = containerSpecs(plan).find((s) => s.role === 'dtm');
  return {
    etcdEndpoints: [`127.0.0.1:${etcdClient}`],
    etcdUrl,
    dtmGrpc: endPoint,
    dtmHttp: dtmUrl,
    dtmTarget: `etcd://127.0.0.1:${etcdClient}/${DTM_SERVICE_KEY}`,
    backend: 'docker',
    store: run.store,
    ports,
    pids: [],
    containerIds: started.map((c) => c.getId()),
    mysqlDatabase: store.Driver === 'mysql' ? 'dtm' : undefined,
    redisPrefix: store.Driver === 'redis' ? String(store.RedisPrefix) : undefined,
    dtmConfig: dtmSpec?.files[0]?.content ?? '',
    stop,
  };
}
