import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { childEnv } from './child-env.ts';
import { onProcessExit } from './cleanup.ts';
import { type DtmConfig, dtmConfig, dtmConfigYaml, type StoreSettings } from './dtm-config.ts';
import { TestkitError } from './errors.ts';
import { DTM_SERVICE_KEY, etcdArgs } from './etcd-args.ts';
import { localBinaries, missingBinariesError, onPath } from './paths.ts';
import { freePorts, releasePorts } from './ports.ts';
import { dtmPing, dtmRegistered, etcdHealthy, waitUntil } from './probe.ts';
import { exitReason, killNow, type ServerProcess, spawnServer, stopServer } from './server-process.ts';
import {
  checkRedis,
  createMysqlDatabase,
  type DtmStore,
  deleteRedisPrefix,
  dropMysqlDatabase,
  type MysqlServer,
  mysqlStore,
  type RedisServer,
  redisStore,
  stackId,
} from './stores.ts';
import type { DtmStack } from './types.ts';

/** Everything the local backend needs, resolved by `startDtmStack`. */
export interface LocalPlan {
  store: DtmStore;
  shared: DtmConfig;
  timeoutMs: number;
  stopTimeoutMs: number;
  log: (line: string) => void;
  mysql: MysqlServer;
  redis: RedisServer;
  etcdBin?: string | undefined;
  dtmBin?: string | undefined;
  etcdAuth?: { user: string; password: string } | undefined;
}

/** A start attempt failed because a port picked as free was taken meanwhile (by another process): retry. */
export class PortClash extends Error {
  override name = 'PortClash';
}

// Process-exit path (synchronous): best-effort removal of the store's data with the command-line clients, if any.
function dropStoreSync(store: StoreSettings | undefined, mysql: MysqlServer, redis: RedisServer): void {
  if (store?.Driver === 'mysql') {
    const cli = onPath('mariadb') ?? onPath('mysql');
    if (cli) {
      spawnSync(
        cli,
        [
          '--no-defaults',
          '--protocol=TCP',
          '-h',
          mysql.host,
          '-P',
          String(mysql.port),
          '-u',
          mysql.user,
          '--connect-timeout=2',
        ],
        {
          input: `DROP DATABASE IF EXISTS \`${store.Db}\`;`,
          env: { ...childEnv(), MYSQL_PWD: mysql.password },
          timeout: 5000,
          stdio: ['pipe', 'ignore', 'ignore'],
        },
      );
    }
  } else if (store?.Driver === 'redis') {
    const cli = onPath('redis-cli');
    const script = "local n=0 for _,k in ipairs(redis.call('KEYS',ARGV[1])) do redis.call('DEL',k) n=n+1 end return n";
    const pattern = `${String(store.RedisPrefix).replace(/[*?[\]\\]/g, '\\$&')}*`;
    if (cli) {
      spawnSync(cli, ['-h', redis.host, '-p', String(redis.port), 'EVAL', script, '0', pattern], {
        env: { ...childEnv(), ...(redis.password ? { REDISCLI_AUTH: redis.password } : {}) },
        timeout: 5000,
        stdio: 'ignore',
      });
    }
  }
}

/** Creates the root user with `password` and enables authentication (etcd's v3 JSON gateway). */
async function enableEtcdAuth(etcdUrl: string, auth: { user: string; password: string }): Promise<void> {
  const post = async (path: string, body: object): Promise<void> => {
    const res = await fetch(`${etcdUrl}${path}`, {
      method: 'POST',
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(3000),
    });
    if (!res.ok) throw new TestkitError(`etcd ${path}: HTTP ${res.status} ${await res.text()}`);
  };
  if (auth.user !== 'root')
    throw new TestkitError('etcdAuth: etcd enables authentication for root only; use user root');
  await post('/v3/auth/user/add', { name: 'root', password: auth.password });
  await post('/v3/auth/user/grant', { user: 'root', role: 'root' });
  await post('/v3/auth/enable', {});
}

/** Starts etcd and dtm as child processes on free loopback ports. */
export async function startLocal(plan: LocalPlan): Promise<DtmStack> {
  const bins = localBinaries({ etcdBin: plan.etcdBin, dtmBin: plan.dtmBin });
  if (!bins.etcd || !bins.dtm) {
    throw missingBinariesError(bins.missing);
  }
  const deadline = Date.now() + plan.timeoutMs;
  const left = (): number => Math.max(0, deadline - Date.now());
  const id = stackId();
  const [etcdClient, etcdPeer, dtmHttp, dtmGrpc] = (await freePorts(4)) as [number, number, number, number];
  const ports = { etcdClient, etcdPeer, dtmHttp, dtmGrpc };
  const dir = mkdtempSync(join(tmpdir(), `dtm-testkit-${id}-`));
  const etcdUrl = `http://127.0.0.1:${etcdClient}`;
  const endPoint = `127.0.0.1:${dtmGrpc}`;
  const target = `etcd://127.0.0.1:${etcdClient}/${DTM_SERVICE_KEY}`;
  const children: ServerProcess[] = [];
  let store: StoreSettings | undefined;
  let storeReady = false;

  const unregister = onProcessExit(() => {
    for (const c of children) killNow(c);
    rmSync(dir, { recursive: true, force: true });
    if (storeReady) dropStoreSync(store, plan.mysql, plan.redis);
  });

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      const errors: unknown[] = [];
      // dtm first (reverse start order): it never runs without the etcd it is registered in.
      for (const c of [...children].reverse()) await stopServer(c, plan.stopTimeoutMs);
      const alive = children.filter((c) => !c.done).map((c) => `${c.name} (pid ${c.proc.pid})`);
      if (alive.length > 0) errors.push(new Error(`still running after SIGKILL: ${alive.join(', ')}`));
      rmSync(dir, { recursive: true, force: true });
      releasePorts(Object.values(ports));
      if (storeReady && store?.Driver === 'mysql') {
        await dropMysqlDatabase(plan.mysql, String(store.Db)).catch((e) => errors.push(e));
      } else if (storeReady && store?.Driver === 'redis') {
        await deleteRedisPrefix(plan.redis, String(store.RedisPrefix)).catch((e) => errors.push(e));
      }
      unregister();
      if (errors.length > 0) throw new AggregateError(errors, 'dtm stack: stop() did not clean up everything');
    })());

  try {
    if (plan.store === 'mysql') {
      const db = `dtm_tk_${id}`;
      store = mysqlStore(plan.mysql, db);
      storeReady = true; // from here a (partly) created database is dropped again
      await createMysqlDatabase(plan.mysql, db);
      plan.log(`[testkit] created MySQL database ${db} at ${plan.mysql.host}:${plan.mysql.port}`);
    } else if (plan.store === 'redis') {
      await checkRedis(plan.redis);
      store = redisStore(plan.redis, `{dtm-tk-${id}}`);
      storeReady = true;
    } else {
      store = { Driver: 'boltdb' };
    }
    // dtm's go-zero driver reads the etcd account from its Target's query, for exactly the hosts written there.
    const auth = plan.etcdAuth;
    const dtmTarget = auth
      ? `${target}?user=${encodeURIComponent(auth.user)}&password=${encodeURIComponent(auth.password)}`
      : target;
    const conf = dtmConfigYaml(
      dtmConfig(plan.shared, { target: dtmTarget, endPoint, httpPort: dtmHttp, grpcPort: dtmGrpc }, store),
    );
    const confFile = join(dir, 'dtm.yml');
    writeFileSync(confFile, conf);
    const dtmDir = join(dir, 'dtm'); // boltdb writes ./dtm.bolt
    mkdirSync(dtmDir);

    const args = etcdArgs({
      name: `testkit-${id}`,
      dataDir: join(dir, 'etcd'),
      clientPort: etcdClient,
      peerPort: etcdPeer,
    });
    const etcd = spawnServer(bins.etcd, args, { cwd: dir, name: 'etcd', keep: 40, log: plan.log, stdout: true });
    children.push(etcd);
    plan.log(`[testkit] started etcd (pid ${etcd.proc.pid}) on 127.0.0.1:${etcdClient}/${etcdPeer}, data in ${dir}`);
    await waitUntil(
      () => etcdHealthy(etcdUrl),
      left(),
      `etcd at ${etcdUrl} healthy`,
      () => exitReason(etcd),
    );

    if (auth) await enableEtcdAuth(etcdUrl, auth);

    const dtm = spawnServer(bins.dtm, ['-c', confFile], {
      cwd: dtmDir,
      name: 'dtm',
      keep: 40,
      log: plan.log,
      stdout: true,
    });
    children.push(dtm);
    plan.log(`[testkit] started dtm (pid ${dtm.proc.pid}) on http ${dtmHttp}, grpc ${dtmGrpc}`);
    const dtmUrl = `http://127.0.0.1:${dtmHttp}`;
    const storeHint = plan.store === 'boltdb' ? '' : ` (dtm waits for its ${plan.store} store before it serves)`;
    await waitUntil(
      () => dtmPing(dtmUrl),
      left(),
      `dtm at ${dtmUrl}/api/ping${storeHint}`,
      () => exitReason(dtm),
    );
    await waitUntil(
      () => dtmRegistered(etcdUrl, DTM_SERVICE_KEY, endPoint, auth),
      left(),
      `dtm registered as ${endPoint} under ${DTM_SERVICE_KEY}/ in etcd ${etcdUrl}`,
      () => exitReason(dtm),
    );
    plan.log(`[testkit] up: etcd ${etcdUrl}, dtm grpc ${endPoint}, http ${dtmUrl}, store ${plan.store} (dir ${dir})`);

    return {
      etcdEndpoints: [`127.0.0.1:${etcdClient}`],
      etcdUrl,
      dtmGrpc: endPoint,
      dtmHttp: dtmUrl,
      dtmTarget: target,
      backend: 'local',
      store: plan.store,
      ports,
      pids: children.map((c) => c.proc.pid as number),
      containerIds: [],
      mysqlDatabase: store.Driver === 'mysql' ? String(store.Db) : undefined,
      redisPrefix: store.Driver === 'redis' ? String(store.RedisPrefix) : undefined,
      dtmConfig: conf,
      stop,
    };
  } catch (err) {
    const clash = children.some((c) => c.tail.some((l) => /address already in use/i.test(l)));
    await stop().catch(() => {});
    if (clash) throw new PortClash('a port picked as free was taken meanwhile', { cause: err });
    throw err;
  }
}
