import { createPool, type Pool } from 'mysql2/promise';
import type { Config } from '../config/config.ts';

/** What every logic shares (go-zero's ServiceContext): the config, and the database once a mode needs it. */
export interface ServiceContext {
  readonly config: Config;
  /** The mysql2 pool, created on first use: the seed transcript needs no database. */
  db(): Pool;
}

export function newServiceContext(config: Config): ServiceContext {
  let pool: Pool | undefined;
  return {
    config,
    db() {
      pool ??= createPool({ uri: config.Mysql.DataSource, connectionLimit: 5, connectTimeout: 3000 });
      return pool;
    },
  };
}
