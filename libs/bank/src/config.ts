// Where the bank lives, as a go-zero service's YAML names it: a `Mysql:` or `Postgres:` section with a DataSource
// (trans's etc/bank.yaml). trans reads it with the rest of its config; the app and the operators' `bank:init` read
// it from trans's YAML, so the app's local transaction (msg mode) and trans's back-check always use one database.
import { confValue, readYaml, serverConfFrom } from '@dtm-gozero/gozero';
import { type DataSource, parseMysqlDataSource, parsePostgresDataSource } from './datasource.ts';

/** The project's local MariaDB (scripts/db.sh), used when the YAML names no database. */
export const DEFAULT_MYSQL = 'root:dtm-test@tcp(127.0.0.1:3306)/dtm_busi?parseTime=true';

/** The bank's part of a service's config. */
export interface BankConfig {
  /** Where balances, the ledger and the barrier table live. */
  Store: DataSource;
  /** True when the YAML names a database: the branches move money. */
  Bank: boolean;
}

/**
 * The bank's part of a parsed YAML document: `Mysql.DataSource` (go-zero's Go DSN or a mysql:// URL) or
 * `Postgres.DataSource` (a postgres:// URL), keys in any case as go-zero reads them; without either, the local
 * MariaDB and `Bank: false`. Errors start with `where` (e.g. `config etc/trans.yaml`) and name the fix.
 */
export function bankConfigFrom(raw: Record<string, unknown>, where: string): BankConfig {
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
  return { Store, Bank: mysql !== undefined || postgres !== undefined };
}

/**
 * The database named by trans's YAML (`file`), refusing a YAML without one: trans would then not move money. The
 * file must be a config trans starts with (go-zero's RpcServerConf is checked too, with trans's messages).
 */
export function bankSourceOf(file: string): DataSource {
  const raw = readYaml(file); // a missing or unreadable file fails here with go-zero's message
  serverConfFrom(raw, file);
  const c = bankConfigFrom(raw, `config ${file}`);
  if (!c.Bank) {
    throw new Error(
      `config ${file}: no Mysql or Postgres section, so a trans started with it only logs; ` +
        'pass the YAML trans runs with, e.g. --bank apps/trans/etc/bank.yaml',
    );
  }
  return c.Store;
}
