// A MariaDB, a PostgreSQL and a Redis of a test's own: scripts/db.sh on free ports with the data in a temp dir,
// stopped by stop(), on the way out of a process that exits first, and (SIGKILL leaves no way out) by the next
// start on this machine, which stops the servers of every earlier owner that is gone.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onProcessExit } from './cleanup.ts';
import { TestkitError } from './errors.ts';
import { pidAlive } from './pid.ts';
import { freePorts, releasePorts } from './ports.ts';

const DB_SH = join(import.meta.dirname, '..', 'scripts', 'db.sh');
const PASSWORD = 'dtm-test'; // what db.sh gives root and postgres
/** Temp dirs of `startDatabases` start with this; each holds `owner.pid`. */
export const DATABASES_DIR_PREFIX = 'dtm-testkit-db-';

/** The servers `startDatabases` can run. */
export type DatabaseKind = 'mysql' | 'postgres' | 'redis';

/** A MariaDB of a test's own: root / dtm-test; `url` is `mysql://root:dtm-test@127.0.0.1:<port>/`. */
export interface MysqlDatabase {
  host: string;
  port: number;
  user: string;
  password: string;
  url: string;
}
/** A PostgreSQL of a test's own: postgres / dtm-test, database `postgres`, `max_prepared_transactions` 10 (XA). */
export interface PostgresDatabase extends MysqlDatabase {
  database: string;
}
/** A Redis of a test's own, without a password; `url` is `redis://127.0.0.1:<port>`. */
export interface RedisDatabase {
  host: string;
  port: number;
  url: string;
}

interface AllDatabases {
  mysql: MysqlDatabase;
  postgres: PostgresDatabase;
  redis: RedisDatabase;
}

/** The running servers (those asked for), where their data is, and `stop()`. */
export type TestDatabases<K extends DatabaseKind = DatabaseKind> = Pick<AllDatabases, K> & {
  /** The temp dir with their data, logs and pid files (removed by `stop()`). */
  dir: string;
  /** Stops the servers and removes their data; safe to call more than once. */
  stop(): Promise<void>;
};

/** Options of `startDatabases`. */
export interface DatabasesOptions<K extends DatabaseKind> {
  /** Which servers to run (default all three; each needs its server installed). */
  servers?: readonly K[] | undefined;
  /** SQL files applied once a server answers (idempotent DDL: your schema, dtm's barrier table…). */
  initSql?: { mysql?: string | undefined; postgres?: string | undefined } | undefined;
  /** Deadline of the start, in ms (default 120 000: a first start initialises the data dirs). */
  timeoutMs?: number | undefined;
}

const DB_SH_NAMES: Record<DatabaseKind, string> = { mysql: 'mariadb', postgres: 'postgres', redis: 'redis' };

function dbShSync(dir: string, command: 'down'): void {
  execFileSync('bash', [DB_SH, command], {
    env: { ...process.env, DB_STATE_DIR: dir, DB_OWN_ONLY: '1' },
    stdio: 'ignore',
    timeout: 120_000,
  });
}

function stopInSync(dir: string): void {
  try {
    dbShSync(dir, 'down');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Stops the servers of earlier `startDatabases` calls whose process died before it could (SIGKILL, a CI job cut
 * off): every temp dir names its owner's pid, and one whose owner is gone is stopped and removed. `startDatabases`
 * calls it first; returns how many it reaped.
 */
export function reapOrphanedDatabases(): number {
  let reaped = 0;
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(DATABASES_DIR_PREFIX)) continue;
    const dir = join(tmpdir(), name);
    const ownerFile = join(dir, 'owner.pid');
    if (!existsSync(ownerFile)) continue; // being created, or not ours to judge
    const owner = Number(readFileSync(ownerFile, 'utf8'));
    if (Number.isSafeInteger(owner) && owner > 0 && pidAlive(owner)) continue;
    try {
      stopInSync(dir);
      reaped++;
    } catch {
      // another process reaps it at the same moment, or a server refuses to stop: the next start tries again
    }
  }
  return reaped;
}

/**
 * Runs db.sh with a deadline; rejects with its stderr. At the deadline its whole process group is killed (a client
 * stuck on a port could otherwise keep it, and its stderr, open); the servers it started run in sessions of their
 * own and are stopped by `db.sh down` from their pid files.
 */
function dbSh(command: 'up' | 'down', env: NodeJS.ProcessEnv, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [DB_SH, command], { env, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    const timer = setTimeout(() => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      reject(new Error(`db.sh ${command} did not finish within ${timeoutMs} ms\n${stderr.trim()}`));
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    // 'close', not 'exit': stderr is read to its end first
    child.once('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`db.sh ${command} exited with code ${code}:\n${stderr.trim()}`));
    });
  });
}

// What the servers say when a port picked as free was taken meanwhile by another process (db.sh prints the last
// lines of a server that exited during start-up): the start is tried again on other ports.
const PORT_TAKEN = /address already in use|already in use|answers but not as|is taken by|already answers on/i;
const ATTEMPTS = 3;

/**
 * Starts a MariaDB, a PostgreSQL and a Redis of the caller's own (or those named in `servers`) on free loopback
 * ports, with their data in a temp dir, and resolves once each answers (and `initSql` is applied). The servers are
 * the ones installed on this machine (`mariadbd`, PostgreSQL's `initdb`/`pg_ctl`, `redis-server`); a missing one is
 * a `TestkitError` naming it and how to install it. A port taken by another process meanwhile is retried on others.
 */
export async function startDatabases<K extends DatabaseKind = DatabaseKind>(
  options: DatabasesOptions<K> = {},
): Promise<TestDatabases<K>> {
  const servers = [...new Set(options.servers ?? (['mysql', 'postgres', 'redis'] as K[]))];
  for (const s of servers) {
    if (!(s in DB_SH_NAMES))
      throw new TestkitError(`unknown server ${JSON.stringify(s)}; valid: mysql, postgres, redis`);
  }
  if (servers.length === 0) throw new TestkitError('servers is empty; name at least one of mysql, postgres, redis');
  reapOrphanedDatabases();
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(servers, options, Math.max(1000, deadline - Date.now()));
    } catch (err) {
      const taken = PORT_TAKEN.test(String((err as Error).cause ?? ''));
      if (!taken || attempt >= ATTEMPTS || Date.now() >= deadline) throw err;
    }
  }
}

async function startOnce<K extends DatabaseKind>(
  servers: K[],
  options: DatabasesOptions<K>,
  timeoutMs: number,
): Promise<TestDatabases<K>> {
  const ports = await freePorts(servers.length);
  const port = (k: DatabaseKind): number => ports[servers.indexOf(k as K)] ?? 0;
  const dir = mkdtempSync(join(tmpdir(), DATABASES_DIR_PREFIX));
  writeFileSync(join(dir, 'owner.pid'), String(process.pid));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DB_STATE_DIR: dir,
    DB_SERVERS: servers.map((s) => DB_SH_NAMES[s]).join(' '),
    DB_MYSQL_PORT: String(port('mysql')),
    DB_PG_PORT: String(port('postgres')),
    DB_REDIS_PORT: String(port('redis')),
    DB_OWN_ONLY: '1',
    DB_MYSQL_INIT_SQL: options.initSql?.mysql ?? '',
    DB_PG_INIT_SQL: options.initSql?.postgres ?? '',
  };
  const unregister = onProcessExit(() => stopInSync(dir));
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      try {
        await dbSh('down', env, 120_000);
      } finally {
        rmSync(dir, { recursive: true, force: true });
        releasePorts(ports);
        unregister();
      }
    })());
  try {
    await dbSh('up', env, timeoutMs);
  } catch (err) {
    await stop().catch(() => {});
    throw new TestkitError(`the databases did not start (data in ${dir}, removed again): ${(err as Error).message}`, {
      cause: err,
    });
  }
  const host = '127.0.0.1';
  const all: Partial<AllDatabases> = {};
  if (servers.includes('mysql' as K)) {
    const p = port('mysql');
    all.mysql = { host, port: p, user: 'root', password: PASSWORD, url: `mysql://root:${PASSWORD}@${host}:${p}/` };
  }
  if (servers.includes('postgres' as K)) {
    const p = port('postgres');
    all.postgres = {
      host,
      port: p,
      user: 'postgres',
      password: PASSWORD,
      database: 'postgres',
      url: `postgres://postgres:${PASSWORD}@${host}:${p}/postgres`,
    };
  }
  if (servers.includes('redis' as K))
    all.redis = { host, port: port('redis'), url: `redis://${host}:${port('redis')}` };
  return { ...(all as Pick<AllDatabases, K>), dir, stop };
}
