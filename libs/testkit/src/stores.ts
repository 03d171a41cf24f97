import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import { mysqlStorageDdl, type StoreSettings } from './dtm-config.ts';
import { TestkitError } from './errors.ts';
import { MYSQL_STORAGE_DDL } from './paths.ts';

/** dtm's stores the fixture can set up. */
export const STORES = ['boltdb', 'mysql', 'redis'] as const;
export type DtmStore = (typeof STORES)[number];

/** A MySQL/MariaDB server and an account that may create and drop databases. */
export interface MysqlServer {
  host: string;
  port: number;
  user: string;
  password: string;
}

/** A Redis server. */
export interface RedisServer {
  host: string;
  port: number;
  password?: string | undefined;
}

/** The default MySQL/MariaDB of the mysql store (the one this repository's `scripts/db.sh up` runs). */
export const DB_SH_MYSQL: MysqlServer = { host: '127.0.0.1', port: 3306, user: 'root', password: 'dtm-test' };
/** The default Redis of the redis store (the one this repository's `scripts/db.sh up` runs). */
export const DB_SH_REDIS: RedisServer = { host: '127.0.0.1', port: 6379 };

/** Validates a store name; the error lists the valid ones. */
export function parseStore(store: string | undefined): DtmStore {
  const s = store ?? 'boltdb';
  if ((STORES as readonly string[]).includes(s)) return s as DtmStore;
  throw new TestkitError(`unknown dtm store ${JSON.stringify(s)}; valid stores: ${STORES.join(', ')}`);
}

/** A random suffix for per-stack names (database, Redis prefix). */
export const stackId = (): string => randomBytes(5).toString('hex');

/** dtm's `Store` for a MySQL database. */
export function mysqlStore(server: MysqlServer, db: string): StoreSettings {
  return {
    Driver: 'mysql',
    Host: server.host,
    Port: server.port,
    User: server.user,
    Password: server.password,
    Db: db,
  };
}

/** dtm's `Store` for Redis with its own key prefix. */
export function redisStore(server: RedisServer, prefix: string): StoreSettings {
  const s: StoreSettings = { Driver: 'redis', Host: server.host, Port: server.port, RedisPrefix: prefix };
  if (server.password) s.Password = server.password;
  return s;
}

const CONNECT_MS = 3000;

/**
 * An optional peer dependency, loaded when a store needs it (boltdb needs neither driver): a clear error naming the
 * package to install when it is absent.
 */
async function driver<T>(pkg: string, store: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (err) {
    if ((err as { code?: unknown })?.code !== 'ERR_MODULE_NOT_FOUND') throw err;
    throw new TestkitError(`store '${store}' needs the ${pkg} package, which is not installed: npm install ${pkg}`, {
      cause: err,
    });
  }
}

async function mysqlConn(server: MysqlServer, multipleStatements = false) {
  const { createConnection } = await driver('mysql2', 'mysql', () => import('mysql2/promise'));
  return createConnection({
    host: server.host,
    port: server.port,
    user: server.user,
    password: server.password,
    connectTimeout: CONNECT_MS,
    multipleStatements,
  });
}

function unreachable(what: string, err: unknown): TestkitError {
  const msg = err instanceof Error ? err.message : String(err);
  return new TestkitError(
    `${what} (${msg}); start it, or point the fixture at another server (options.mysql / options.redis)`,
    { cause: err },
  );
}

/** Creates database `db` with dtm's storage tables (the project's DDL, moved to `db`). */
export async function createMysqlDatabase(server: MysqlServer, db: string, ddlFile = MYSQL_STORAGE_DDL): Promise<void> {
  const ddl = mysqlStorageDdl(readFileSync(ddlFile, 'utf8'), db);
  let conn: Awaited<ReturnType<typeof mysqlConn>>;
  try {
    conn = await mysqlConn(server, true);
  } catch (err) {
    throw unreachable(`MySQL at ${server.host}:${server.port} does not answer as ${server.user}`, err);
  }
  try {
    await conn.query(ddl);
  } finally {
    await conn.end();
  }
}

/** Drops database `db` (the fixture's own, never `dtm`). */
export async function dropMysqlDatabase(server: MysqlServer, db: string): Promise<void> {
  if (db === 'dtm') throw new TestkitError('refusing to drop database dtm');
  const conn = await mysqlConn(server);
  try {
    await conn.query(`DROP DATABASE IF EXISTS \`${db}\``);
  } finally {
    await conn.end();
  }
}

/** Whether the MySQL database answers a query on dtm's table. */
export async function mysqlReady(server: MysqlServer, db: string): Promise<boolean> {
  const conn = await mysqlConn(server);
  try {
    await conn.query(`SELECT COUNT(*) FROM \`${db}\`.trans_global`);
    return true;
  } finally {
    await conn.end();
  }
}

async function redisClient(server: RedisServer): Promise<Redis> {
  const { Redis } = await driver('ioredis', 'redis', () => import('ioredis'));
  return new Redis({
    host: server.host,
    port: server.port,
    password: server.password,
    connectTimeout: CONNECT_MS,
    commandTimeout: CONNECT_MS, // a command to a server that stopped answering fails instead of waiting forever
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
    lazyConnect: true,
  });
}

async function withRedis<T>(server: RedisServer, fn: (r: Redis) => Promise<T>): Promise<T> {
  const r = await redisClient(server);
  r.on('error', () => {}); // reported through the rejected command
  try {
    await r.connect();
    return await fn(r);
  } finally {
    r.disconnect();
  }
}

/** Checks that Redis answers PING (a clear error otherwise). */
export async function checkRedis(server: RedisServer): Promise<void> {
  try {
    await withRedis(server, (r) => r.ping());
  } catch (err) {
    throw unreachable(`Redis at ${server.host}:${server.port} does not answer`, err);
  }
}

/** Whether Redis answers PING. */
export async function redisReady(server: RedisServer): Promise<boolean> {
  return (await withRedis(server, (r) => r.ping())) === 'PONG';
}

/** Keys that start with `prefix` (dtm's keys are `<prefix>_g_<gid>`, `<prefix>_b_<gid>`, `<prefix>_u`, …). */
export async function redisKeys(server: RedisServer, prefix: string): Promise<string[]> {
  const pattern = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
  return withRedis(server, async (r) => {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await r.scan(cursor, 'MATCH', pattern, 'COUNT', 5000);
      keys.push(...batch);
      cursor = next;
    } while (cursor !== '0');
    return keys;
  });
}

/** Deletes every key that starts with `prefix`; returns how many there were. */
export async function deleteRedisPrefix(server: RedisServer, prefix: string): Promise<number> {
  const keys = await redisKeys(server, prefix);
  // In batches: after a benchmark dtm leaves 100 000s of keys, more than one call's arguments can carry.
  await withRedis(server, async (r) => {
    for (let i = 0; i < keys.length; i += 1000) await r.del(...keys.slice(i, i + 1000));
  });
  return keys.length;
}
