import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { type ContainerSpec, containerSpecs, type DockerPlan, DTM_CONFIG_IN_CONTAINER, IMAGES } from './docker.ts';
import { readSharedDtmConfig } from './dtm-config.ts';
import { MYSQL_STORAGE_DDL } from './paths.ts';

/** The compose file whose image tags the docker backend uses (this repository's). */
const COMPOSE_FILE = join(import.meta.dirname, '..', '..', '..', 'docker-compose.yml');

import type { DtmStore } from './stores.ts';

const compose = parse(readFileSync(COMPOSE_FILE, 'utf8')) as {
  services: Record<string, { image?: string; command?: string[]; network_mode?: string; volumes?: string[] }>;
};
const ddl = readFileSync(MYSQL_STORAGE_DDL, 'utf8');

function plan(store: DtmStore): DockerPlan {
  return {
    id: 'abc',
    store,
    shared: readSharedDtmConfig(),
    ports: {
      etcdClient: 41001,
      etcdPeer: 41002,
      dtmHttp: 41003,
      dtmGrpc: 41004,
      store: store === 'boltdb' ? undefined : 41005,
    },
    mysqlPassword: 'secret',
    mysqlDdl: ddl,
  };
}
const byRole = (specs: ContainerSpec[], role: ContainerSpec['role']): ContainerSpec => {
  const s = specs.find((x) => x.role === role);
  if (!s) throw new Error(`no ${role} container`);
  return s;
};

describe('images', () => {
  test('etcd, dtm and MySQL are the images and tags of docker-compose.yml', () => {
    expect(IMAGES.etcd).toBe(compose.services.etcd?.image);
    expect(IMAGES.dtm).toBe(compose.services.dtm?.image);
    expect(IMAGES.mysql).toBe(compose.services.mysql?.image);
  });

  test('every image has a pinned tag', () => {
    for (const image of Object.values(IMAGES)) expect(image).toMatch(/:[\w.-]*\d[\w.-]*$/);
  });
});

describe('containerSpecs', () => {
  test('boltdb: etcd then dtm, both on the host network like the compose stack', () => {
    const specs = containerSpecs(plan('boltdb'));
    expect(specs.map((s) => s.role)).toEqual(['etcd', 'dtm']);
    for (const s of specs) expect(s.networkMode).toBe('host');
    expect(compose.services.dtm?.network_mode).toBe('host');
  });

  test('etcd: the flags of the compose service, on this stack ports, data on a tmpfs', () => {
    const etcd = byRole(containerSpecs(plan('boltdb')), 'etcd');
    expect(etcd.image).toBe(IMAGES.etcd);
    expect(etcd.command[0]).toBe(compose.services.etcd?.command?.[0]);
    const flagNames = (cmd: string[]) => cmd.slice(1).map((a) => a.split('=')[0]);
    expect(flagNames(etcd.command)).toEqual(expect.arrayContaining(flagNames(compose.services.etcd?.command ?? [])));
    expect(etcd.command).toEqual(
      expect.arrayContaining([
        '--listen-client-urls=http://127.0.0.1:41001',
        '--advertise-client-urls=http://127.0.0.1:41001',
        '--listen-peer-urls=http://127.0.0.1:41002',
        '--data-dir=/var/lib/etcd/data',
      ]),
    );
    expect(etcd.tmpfs).toEqual({ '/var/lib/etcd': 'rw' });
  });

  test('dtm: env of §6.1/§6.4 and the derived shared config mounted at -c', () => {
    const dtm = byRole(containerSpecs(plan('boltdb')), 'dtm');
    expect(dtm.image).toBe(IMAGES.dtm);
    expect(dtm.command).toEqual(['-c', DTM_CONFIG_IN_CONTAINER]);
    expect(compose.services.dtm?.command).toEqual(dtm.command);
    expect(dtm.env).toMatchObject({
      MICRO_SERVICE_DRIVER: 'dtm-driver-gozero',
      MICRO_SERVICE_TARGET: 'etcd://127.0.0.1:41001/dtmservice',
      MICRO_SERVICE_END_POINT: '127.0.0.1:41004',
      HTTP_PORT: '41003',
      GRPC_PORT: '41004',
      STORE_DRIVER: 'boltdb',
      TIMEOUT_TO_FAIL: '35',
    });
    expect(dtm.env).not.toHaveProperty('IS_DOCKER');
    const [file] = dtm.files;
    expect(file?.target).toBe(DTM_CONFIG_IN_CONTAINER);
    const conf = parse(file?.content ?? '') as Record<string, unknown>;
    // As in compose: the file has no Store (it would override STORE_*), and it agrees with the env on the rest.
    expect(conf.Store).toBeUndefined();
    expect(conf).toMatchObject({
      MicroService: {
        Driver: 'dtm-driver-gozero',
        Target: 'etcd://127.0.0.1:41001/dtmservice',
        EndPoint: '127.0.0.1:41004',
      },
      HttpPort: 41003,
      GrpcPort: 41004,
    });
    const shared = readSharedDtmConfig();
    for (const k of ['TransCronInterval', 'TimeoutToFail', 'RetryInterval', 'RequestTimeout', 'LogLevel']) {
      expect(conf[k]).toEqual(shared[k]);
    }
  });

  test('mysql: the compose image with the project DDL as init script, dtm pointed at it', () => {
    const specs = containerSpecs(plan('mysql'));
    expect(specs.map((s) => s.role)).toEqual(['mysql', 'etcd', 'dtm']);
    const mysql = byRole(specs, 'mysql');
    expect(mysql.image).toBe(IMAGES.mysql);
    expect(mysql.command).toEqual(['--bind-address=127.0.0.1', '--port=41005']);
    expect(mysql.env).toEqual({ MARIADB_ROOT_PASSWORD: 'secret' });
    expect(mysql.files).toEqual([{ target: '/docker-entrypoint-initdb.d/01-dtm-storage.sql', content: ddl }]);
    expect(compose.services.mysql?.volumes).toContain('./infra/mysql/initdb:/docker-entrypoint-initdb.d:ro');
    expect(byRole(specs, 'dtm').env).toMatchObject({
      STORE_DRIVER: 'mysql',
      STORE_HOST: '127.0.0.1',
      STORE_PORT: '41005',
      STORE_USER: 'root',
      STORE_PASSWORD: 'secret',
      STORE_DB: 'dtm',
    });
  });

  test('redis: a Redis on the store port, dtm with its own prefix', () => {
    const specs = containerSpecs(plan('redis'));
    expect(specs.map((s) => s.role)).toEqual(['redis', 'etcd', 'dtm']);
    expect(byRole(specs, 'redis').command).toEqual(
      expect.arrayContaining(['redis-server', '--bind', '127.0.0.1', '--port', '41005']),
    );
    expect(byRole(specs, 'dtm').env).toMatchObject({
      STORE_DRIVER: 'redis',
      STORE_HOST: '127.0.0.1',
      STORE_PORT: '41005',
      STORE_REDIS_PREFIX: '{dtm-tk-abc}',
    });
  });
});
