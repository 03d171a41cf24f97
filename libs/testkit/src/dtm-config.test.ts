import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { childEnv } from './child-env.ts';
import { dtmConfig, dtmConfigYaml, dtmEnv, dtmEnvName, mysqlStorageDdl, readSharedDtmConfig } from './dtm-config.ts';
import { etcdArgs } from './etcd-args.ts';
import { localBinaries, MYSQL_STORAGE_DDL, missingBinariesError } from './paths.ts';
import { mysqlStore, redisStore } from './stores.ts';

const addr = {
  target: 'etcd://127.0.0.1:40001/dtmservice',
  endPoint: '127.0.0.1:40004',
  httpPort: 40003,
  grpcPort: 40004,
};

describe('dtmConfig', () => {
  const shared = readSharedDtmConfig();

  test('the shared file is what the fixture builds on: go-zero driver, no Store', () => {
    expect(shared.MicroService).toMatchObject({ Driver: 'dtm-driver-gozero' });
    expect(shared.Store).toBeUndefined();
  });

  test('overrides only target, end point, ports and store; keeps every other shared setting', () => {
    const conf = dtmConfig(shared, addr, { Driver: 'boltdb' });
    expect(conf.MicroService).toEqual({
      ...(shared.MicroService as object),
      Target: addr.target,
      EndPoint: addr.endPoint,
    });
    expect(conf.HttpPort).toBe(40003);
    expect(conf.GrpcPort).toBe(40004);
    expect(conf.Store).toEqual({ Driver: 'boltdb' });
    const { MicroService: _a, HttpPort: _b, GrpcPort: _c, Store: _d, ...rest } = conf;
    const { MicroService: _e, HttpPort: _f, GrpcPort: _g, ...sharedRest } = shared;
    expect(rest).toEqual(sharedRest);
    expect(Object.keys(rest)).toEqual(expect.arrayContaining(['TransCronInterval', 'TimeoutToFail', 'RetryInterval']));
    // the shared object is left alone
    expect((shared.MicroService as Record<string, unknown>).Target).toBe('etcd://localhost:2379/dtmservice');
  });

  test('never the fixed ports of the local stack', () => {
    const yaml = dtmConfigYaml(dtmConfig(shared, addr));
    expect(yaml).not.toMatch(/36789|36790|:2379\b/);
    expect(parse(yaml)).toEqual(dtmConfig(shared, addr));
  });

  test('mysql and redis stores', () => {
    const server = { host: '127.0.0.1', port: 3306, user: 'root', password: 'pw' };
    expect(dtmConfig(shared, addr, mysqlStore(server, 'dtm_tk_1')).Store).toEqual({
      Driver: 'mysql',
      Host: '127.0.0.1',
      Port: 3306,
      User: 'root',
      Password: 'pw',
      Db: 'dtm_tk_1',
    });
    expect(redisStore({ host: '127.0.0.1', port: 6379 }, '{p}')).toEqual({
      Driver: 'redis',
      Host: '127.0.0.1',
      Port: 6379,
      RedisPrefix: '{p}',
    });
  });
});

describe('dtm env names (§6.1)', () => {
  test.each([
    [['MicroService', 'Driver'], 'MICRO_SERVICE_DRIVER'],
    [['MicroService', 'Target'], 'MICRO_SERVICE_TARGET'],
    [['MicroService', 'EndPoint'], 'MICRO_SERVICE_END_POINT'],
    [['Store', 'RedisPrefix'], 'STORE_REDIS_PREFIX'],
    [['Store', 'Db'], 'STORE_DB'],
    [['Store', 'ConnMaxLifeTime'], 'STORE_CONN_MAX_LIFE_TIME'],
    [['HttpPort'], 'HTTP_PORT'],
    [['JsonRpcPort'], 'JSON_RPC_PORT'],
    [['HttpMicroService', 'RegistryType'], 'HTTP_MICRO_SERVICE_REGISTRY_TYPE'],
    [['TimeoutToFail'], 'TIMEOUT_TO_FAIL'],
  ])('%j → %s', (path, name) => {
    expect(dtmEnvName(path)).toBe(name);
  });

  test('dtmEnv flattens sections', () => {
    expect(dtmEnv({ MicroService: { Driver: 'd', EndPoint: 'e:1' }, GrpcPort: 1, Store: { Port: 2 } })).toEqual({
      MICRO_SERVICE_DRIVER: 'd',
      MICRO_SERVICE_END_POINT: 'e:1',
      GRPC_PORT: '1',
      STORE_PORT: '2',
    });
  });
});

describe('mysqlStorageDdl', () => {
  const sql = readFileSync(MYSQL_STORAGE_DDL, 'utf8');

  test("moves the project's DDL from database dtm to the stack's database", () => {
    const out = mysqlStorageDdl(sql, 'dtm_tk_abc');
    expect(out).toMatch(/CREATE DATABASE IF NOT EXISTS `dtm_tk_abc`/);
    for (const t of ['trans_global', 'trans_branch_op', 'kv']) {
      expect(out).toContain(`CREATE TABLE IF NOT EXISTS \`dtm_tk_abc\`.${t} (`);
    }
    expect(out).not.toMatch(/(^|[\s(`])dtm\./m);
    expect(out).not.toMatch(/^\s*--/m);
  });

  test('rejects names that are not plain identifiers; dtm itself is left as is', () => {
    expect(() => mysqlStorageDdl(sql, 'x`; DROP DATABASE dtm')).toThrow(/invalid MySQL database name/);
    expect(mysqlStorageDdl(sql, 'dtm')).toBe(sql);
  });

  test('fails loudly when a dtm reference would be left behind', () => {
    expect(() => mysqlStorageDdl('CREATE TABLE IF NOT EXISTS dtm.t (id int);\nSELECT a=dtm.t.id FROM x;', 'x')).toThrow(
      /could not move every table/,
    );
    expect(() => mysqlStorageDdl('CREATE TABLE other.t (id int);\nINSERT INTO dtm . t VALUES (1);', 'x')).toThrow(
      /creates no table/,
    );
  });
});

describe('local processes', () => {
  test('etcd: client and peer URLs on loopback, advertised as listened', () => {
    const args = etcdArgs({ name: 'n', dataDir: '/d', clientPort: 1, peerPort: 2 });
    expect(args).toEqual(
      expect.arrayContaining([
        '--listen-client-urls=http://127.0.0.1:1',
        '--advertise-client-urls=http://127.0.0.1:1',
        '--listen-peer-urls=http://127.0.0.1:2',
        '--initial-advertise-peer-urls=http://127.0.0.1:2',
        '--initial-cluster=n=http://127.0.0.1:2',
        '--data-dir=/d',
      ]),
    );
  });

  test("dtm and etcd do not inherit the test's dtm/etcd settings", () => {
    const env = childEnv({ PATH: '/bin', HOME: '/h', STORE_DRIVER: 'mysql', IS_DOCKER: '1', ETCD_DATA_DIR: '/x' });
    expect(env).toEqual({ PATH: '/bin', HOME: '/h' });
  });

  test('missing binaries are named', () => {
    const b = localBinaries({ etcdBin: '/nonexistent/etcd', dtmBin: '/nonexistent/dtm' });
    expect(b.missing).toEqual([
      'etcd (/nonexistent/etcd is not an executable)',
      'dtm (/nonexistent/dtm is not an executable)',
    ]);
    expect(localBinaries({}, { PATH: '/nonexistent', DTM_BIN: '/nonexistent/dtm' }).missing[0]).toBe(
      'etcd (not on PATH)',
    );
  });

  test('order: option, then env, then PATH, then the cache; a binary given explicitly must exist', () => {
    const bin = mkdtempSync(join(tmpdir(), 'testkit-bin-'));
    const cache = mkdtempSync(join(tmpdir(), 'testkit-cache-'));
    try {
      for (const n of ['etcd', 'dtm']) {
        writeFileSync(join(bin, n), '#!/bin/sh\n');
        chmodSync(join(bin, n), 0o755);
      }
      const env = { PATH: bin, XDG_CACHE_HOME: cache };
      expect(localBinaries({}, env)).toEqual({ etcd: join(bin, 'etcd'), dtm: join(bin, 'dtm'), missing: [] });
      expect(localBinaries({}, { ...env, ETCD_BIN: '/bin/sh' }).etcd).toBe('/bin/sh');
      expect(localBinaries({ etcdBin: '/bin/true' }, { ...env, ETCD_BIN: '/bin/sh' }).etcd).toBe('/bin/true');
      // Not on PATH: the per-user cache that `npm run setup` fills.
      const cached = join(cache, 'dtm-gozero-ts', 'dtm-v1.19.0');
      mkdirSync(join(cache, 'dtm-gozero-ts'));
      writeFileSync(cached, '#!/bin/sh\n');
      chmodSync(cached, 0o755);
      const noPath = localBinaries({ etcdBin: '/bin/true' }, { PATH: '/nonexistent', XDG_CACHE_HOME: cache });
      expect(noPath.dtm === cached || noPath.dtm?.endsWith('/.cache/bin/dtm')).toBe(true);
      expect(localBinaries({}, { ...env, DTM_BIN: '/nonexistent/dtm' }).missing).toEqual([
        'dtm (/nonexistent/dtm is not an executable)',
      ]);
    } finally {
      rmSync(bin, { recursive: true, force: true });
      rmSync(cache, { recursive: true, force: true });
    }
  });

  test('startEtcd without etcd names what is missing and how to install it, not this repo’s scripts', async () => {
    const { startEtcd } = await import('./etcd.ts');
    const saved = { PATH: process.env.PATH, ETCD_BIN: process.env.ETCD_BIN };
    process.env.PATH = '/nonexistent';
    delete process.env.ETCD_BIN;
    try {
      const err = await startEtcd().catch((e: unknown) => e as Error);
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).message).toMatch(/missing: etcd and etcdctl\. Install etcd 3\.4\+: on Debian\/Ubuntu/);
      expect((err as Error).message).not.toMatch(/npm run/);
    } finally {
      process.env.PATH = saved.PATH;
      if (saved.ETCD_BIN !== undefined) process.env.ETCD_BIN = saved.ETCD_BIN;
    }
  });

  test('the error names each missing binary and how to install it', () => {
    const m = missingBinariesError(['etcd (not on PATH)']).message;
    expect(m).toMatch(
      /missing: etcd \(not on PATH\)\. Install etcd 3\.4\+: on Debian\/Ubuntu `sudo apt-get install etcd-server`/,
    );
    expect(m).not.toMatch(/dtm v1/);
    expect(m).not.toMatch(/npm run/);
    expect(missingBinariesError(['dtm (not on PATH)']).message).toMatch(/Install dtm v1\.19\.0: build it with Go/);
  });
});
