import { confValue, type RpcServerConf, readYaml, serverConfFrom } from '@dtm-gozero/gozero';
import { type DataSource, parseMysqlDataSource, parsePostgresDataSource } from './datasource.ts';

/** The project's local MariaDB (scripts/db.sh), used when the YAML names no database. */
export const DEFAULT_MYSQL = 'root:dtm-test@tcp(127.0.0.1:3306)/dtm_busi?parseTime=true';

/**
 * trans's configuration: go-zero's RpcServerConf (as goctl's config.go embeds zrpc.RpcServerConf), plus the bank's
 * database. `Mysql.DataSource` (go-zero's Go DSN or a mysql:// URL) or `Postgres.DataSource` (a postgres:// URL)
 * turns trans into the bank: every branch moves money in that database through the barrier, and trans creates
 * the database, tables and barrier table at start. The Go example's etc/trans.yaml names none and loads
 * unchanged: then trans only logs, as the Go service does, and the XA branches use the local MariaDB.
 */
export interface Config extends RpcServerConf {
  /** Where balances, the ledger and the barrier table live. */
  Store: DataSource;
  /** True when the YAML names a database: the branches move money. */
  Bank: boolean;
}

export function loadConfig(file: string): Config {
  const raw = readYaml(file);
  const base = serverConfFrom(raw, file);
  const where = `config ${file}`;
  const dsOf = (key: string): string | undefined => {
    // Case-insensitive, as go-zero reads keys: `MySQL:` must not leave trans a bank that moves no money.
    const v = confValue(raw, key);
    if (v === undefined || v === null) return undefined;
    const ds = typeof v === 'object' ? confValue(v as Record<string, unknown>, 'DataSource') : undefined;
    if (typeof ds !== 'string' || ds === '') {
      throw new Error(`${where}: ${key}.DataSource is missing or not a string; add it, e.g. "${key}: {DataSource: …}"`);
    }
    return ds;
  };
  const mysql = dsOf('Mysql');
  const postgres = dsOf('Postgres');
  if (mysql !== undefined && postgres !== undefined) {
    throw new Error(`${where}: both Mysql and Postgres are set; keep the one the bank should use`);
  }
  const Store =
    postgres !== undefined
      ? parsePostgresDataSource(postgres, where)
      : parseMysqlDataSource(mysql ?? DEFAULT_MYSQL, where);
  return { ...base, Store, Bank: mysql !== undefined || postgres !== undefined };
}
