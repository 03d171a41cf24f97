// The integration suite's own MariaDB, Postgres and Redis: scripts/db.sh on free ports with its data in a temp
// dir, so that `npm test` neither needs nor touches a server of the user's (or one that happens to answer on 3306).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestDatabases } from './stack-context.ts';

const DB_SH = join(import.meta.dirname, '..', '..', 'scripts', 'db.sh');
const PASSWORD = 'dtm-test'; // what scripts/db.sh gives root and postgres

export interface OwnDatabases {
  databases: TestDatabases;
  /** The temp dir holding their data, logs and pid files. */
  dir: string;
  stop(): void;
}

/** Starts a MariaDB, a Postgres and a Redis of their own on the given free ports (~5 s from scratch). */
export function startOwnDatabases(ports: { mysql: number; postgres: number; redis: number }): OwnDatabases {
  const dir = mkdtempSync(join(tmpdir(), 'dtm-gozero-test-db-'));
  const env = {
    ...process.env,
    DB_STATE_DIR: dir,
    DB_MYSQL_PORT: String(ports.mysql),
    DB_PG_PORT: String(ports.postgres),
    DB_REDIS_PORT: String(ports.redis),
    DB_OWN_ONLY: '1',
  };
  const stop = (): void => {
    try {
      execFileSync('bash', [DB_SH, 'down'], { env, stdio: 'ignore', timeout: 120_000 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
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
