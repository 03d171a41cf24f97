// The integration suite's own MariaDB, Postgres and Redis: scripts/db.sh on free ports with its data in a temp
// dir, so that `npm test` neither needs nor touches a server of the user's (or one that happens to answer on 3306).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pidAlive } from './procs.ts';
import type { TestDatabases } from './stack-context.ts';

const DB_SH = join(import.meta.dirname, '..', '..', 'scripts', 'db.sh');
const PASSWORD = 'dtm-test'; // what scripts/db.sh gives root and postgres
const PREFIX = 'dtm-gozero-test-db-';

function stopIn(dir: string): void {
  try {
    execFileSync('bash', [DB_SH, 'down'], {
      env: { ...process.env, DB_STATE_DIR: dir, DB_OWN_ONLY: '1' },
      stdio: 'ignore',
      timeout: 120_000,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Stops the servers of earlier runs that died before their teardown (a killed vitest, a CI job cut off): each run's
 * dir names its owner's pid, and a dir whose owner is gone is stopped and removed. Returns how many were reaped.
 */
export function reapOrphanedDatabases(): number {
  let reaped = 0;
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(PREFIX)) continue;
    const dir = join(tmpdir(), name);
    const ownerFile = join(dir, 'owner.pid');
    if (!existsSync(ownerFile)) continue; // being created, or not ours to judge
    const owner = Number(readFileSync(ownerFile, 'utf8'));
    if (Number.isSafeInteger(owner) && owner > 0 && pidAlive(owner)) continue;
    stopIn(dir);
    reaped++;
  }
  return reaped;
}

export interface OwnDatabases {
  databases: TestDatabases;
  /** The temp dir holding their data, logs and pid files. */
  dir: string;
  stop(): void;
}

/** Starts a MariaDB, a Postgres and a Redis of their own on the given free ports (~5 s from scratch). */
export function startOwnDatabases(ports: { mysql: number; postgres: number; redis: number }): OwnDatabases {
  reapOrphanedDatabases();
  const dir = mkdtempSync(join(tmpdir(), PREFIX));
  writeFileSync(join(dir, 'owner.pid'), String(process.pid));
  const env = {
    ...process.env,
    DB_STATE_DIR: dir,
    DB_MYSQL_PORT: String(ports.mysql),
    DB_PG_PORT: String(ports.postgres),
    DB_REDIS_PORT: String(ports.redis),
    DB_OWN_ONLY: '1',
  };
  const stop = (): void => stopIn(dir);
  try {
    execFileSync('bash', [DB_SH, 'up'], { env, stdio: ['ignore', 'ignore', 'inherit'], timeout: 180_000 });
  } catch (err) {
    stop();
    throw new Error(`the test suite's databases did not start (scripts/db.sh up in ${dir}): ${(err as Error).message}`);
  }
  const host = '127.0.0.1';
  return {
    dir,
    stop,
    databases: {
      mysql: { host, port: ports.mysql, user: 'root', password: PASSWORD },
      mysqlUrl: `mysql://root:${PASSWORD}@${host}:${ports.mysql}/`,
      postgres: { host, port: ports.postgres, user: 'postgres', password: PASSWORD, database: 'postgres' },
      postgresUrl: `postgres://postgres:${PASSWORD}@${host}:${ports.postgres}/postgres`,
      redis: { host, port: ports.redis },
    },
  };
}
