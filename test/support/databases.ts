// The integration suite's own MariaDB, Postgres and Redis: @dtm-gozero/testkit's startDatabases (free ports, data in
// a temp dir, reaped when the owner dies) with dtm's barrier schema applied, in the shape the tests inject.
import { createRequire } from 'node:module';
import type { TestDatabases } from '@dtm-gozero/devkit/stack';
import { startDatabases } from '@dtm-gozero/testkit';

const barrierSql = (db: 'mysql' | 'postgres'): string =>
  createRequire(import.meta.url).resolve(`@dtm-gozero/dtmgrpc/sql/barrier.${db}.sql`);

export interface OwnDatabases {
  databases: TestDatabases;
  /** The temp dir holding their data, logs and pid files. */
  dir: string;
  stop(): Promise<void>;
}

/** Starts a MariaDB, a Postgres and a Redis of their own with the barrier schema (~5 s from scratch). */
export async function startOwnDatabases(): Promise<OwnDatabases> {
  const dbs = await startDatabases({ initSql: { mysql: barrierSql('mysql'), postgres: barrierSql('postgres') } });
  const { mysql, postgres, redis } = dbs;
  return {
    dir: dbs.dir,
    stop: dbs.stop,
    databases: {
      mysql: { host: mysql.host, port: mysql.port, user: mysql.user, password: mysql.password },
      mysqlUrl: mysql.url,
      postgres: {
        host: postgres.host,
        port: postgres.port,
        user: postgres.user,
        password: postgres.password,
        database: postgres.database,
      },
      postgresUrl: postgres.url,
      redis: { host: redis.host, port: redis.port },
    },
  };
}
