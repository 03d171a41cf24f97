import { pidAlive, until } from '@dtm-gozero/devkit';
import { trivialTcc } from '@dtm-gozero/devkit/dtm';
import { testDatabases } from '@dtm-gozero/devkit/stack';
import { openPortsAfter, runVictim } from '@dtm-gozero/devkit/victim';
import { closeConnections } from '@dtm-gozero/dtmgrpc';
import { Redis } from 'ioredis';
import { createConnection } from 'mysql2/promise';
import { afterAll, describe, expect, test } from 'vitest';
import { startDtmStack } from './stack.ts';
import { deleteRedisPrefix, redisKeys } from './stores.ts';

// dtm's MySQL and Redis stores, against the integration suite's own databases (its global setup), with the local
// backend.
const { mysql: MYSQL, redis: REDIS } = testDatabases();
afterAll(() => closeConnections());

async function mysql<T>(sql: string, params: unknown[] = []): Promise<T> {
  const conn = await createConnection({ ...MYSQL, connectTimeout: 3000 });
  try {
    const [rows] = await conn.query(sql, params);
    return rows as T;
  } finally {
    await conn.end();
  }
}

describe('mysql store', () => {
  test('a fresh database with the project schema; the transaction lands there; stop() drops it', async () => {
    const stack = await startDtmStack({ backend: 'local', store: 'mysql', mysql: MYSQL });
    const db = stack.mysqlDatabase as string;
    try {
      expect(db).toMatch(/^dtm_tk_[0-9a-f]+$/);
      expect(stack.dtmConfig).toContain(`Db: ${db}`);
      const tables = await mysql<{ t: string }[]>(
        'SELECT table_name AS t FROM information_schema.tables WHERE table_schema = ? ORDER BY t',
        [db],
      );
      expect(tables.map((r) => r.t)).toEqual(['kv', 'trans_branch_op', 'trans_global']);
      const gid = await trivialTcc(stack.dtmTarget);
      const rows = await mysql<{ status: string }[]>(`SELECT status FROM \`${db}\`.trans_global WHERE gid = ?`, [gid]);
      expect(rows).toEqual([{ status: 'succeed' }]);
    } finally {
      await stack.stop();
    }
    expect(await mysql<unknown[]>('SHOW DATABASES LIKE ?', [db])).toEqual([]);
    expect(stack.pids.filter(pidAlive)).toEqual([]);
    expect(await openPortsAfter(stack)).toEqual([]);
  });

  test('MySQL unreachable: says so and how to point the fixture elsewhere', async () => {
    await expect(startDtmStack({ backend: 'local', store: 'mysql', mysql: { ...MYSQL, port: 9 } })).rejects.toThrow(
      /MySQL at 127\.0\.0\.1:9 does not answer as root .*start it, or .*options\.mysql/,
    );
  });
});

describe('redis store', () => {
  test('its own key prefix; the transaction lands there; stop() deletes the keys', async () => {
    const [a, b] = await Promise.all([
      startDtmStack({ backend: 'local', store: 'redis', redis: REDIS }),
      startDtmStack({ backend: 'local', store: 'redis', redis: REDIS }),
    ]);
    const prefix = a.redisPrefix as string;
    try {
      expect(prefix).toMatch(/^\{dtm-tk-[0-9a-f]+\}$/);
      expect(b.redisPrefix).not.toBe(prefix);
      const gid = await trivialTcc(a.dtmTarget);
      const redis = new Redis({ ...REDIS, maxRetriesPerRequest: 1 });
      try {
        expect(JSON.parse((await redis.get(`${prefix}_g_${gid}`)) ?? '{}')).toMatchObject({ gid, status: 'succeed' });
      } finally {
        redis.disconnect();
      }
      expect(await redisKeys(REDIS, b.redisPrefix as string)).toEqual([]);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
    expect(await redisKeys(REDIS, prefix)).toEqual([]);
    expect([...a.pids, ...b.pids].filter(pidAlive)).toEqual([]);
  });

  test('Redis unreachable: says so and how to point the fixture elsewhere', async () => {
    await expect(
      startDtmStack({ backend: 'local', store: 'redis', redis: { host: '127.0.0.1', port: 9 } }),
    ).rejects.toThrow(/Redis at 127\.0\.0\.1:9 does not answer .*start it, or .*options\.redis/);
  });
});

describe('a test process that dies mid-suite', () => {
  test('its MySQL database is dropped on the way out', async () => {
    const v = await runVictim('throw', 'mysql', { mysql: MYSQL });
    expect(v.mysqlDatabase).toMatch(/^dtm_tk_/);
    await until(() => v.pids.every((p) => !pidAlive(p)), 5000, 'servers gone');
    expect(await mysql<unknown[]>('SHOW DATABASES LIKE ?', [v.mysqlDatabase])).toEqual([]);
  });

  test('its Redis keys are deleted on SIGTERM', async () => {
    const v = await runVictim('sigterm', 'redis', { redis: REDIS });
    expect(v.signal).toBe('SIGTERM');
    await until(() => v.pids.every((p) => !pidAlive(p)), 5000, 'servers gone');
    expect(await redisKeys(REDIS, v.redisPrefix as string)).toEqual([]);
  });
});

test('deleteRedisPrefix removes a benchmark’s worth of keys (150 000: more than one DEL can take as arguments)', async () => {
  const prefix = `testkit-many-${Date.now()}`;
  const r = new Redis({ host: REDIS.host, port: REDIS.port, lazyConnect: true });
  await r.connect();
  try {
    const p = r.pipeline();
    for (let i = 0; i < 150_000; i++) p.set(`${prefix}_g_${i}`, '1');
    await p.exec();
    expect(await deleteRedisPrefix(REDIS, prefix)).toBe(150_000);
    expect(await redisKeys(REDIS, prefix)).toEqual([]);
  } finally {
    r.disconnect();
  }
}, 60_000);
