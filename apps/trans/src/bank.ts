// What the app and the chaos suite share with trans: the bank's storage and where trans's YAML says it lives, so
// the app's local transaction (msg mode) and trans's back-check always use one database.
import { readYaml } from '@dtm-gozero/gozero';
import { type Config, loadConfig } from './internal/config/config.ts';
import type { DataSource } from './internal/config/datasource.ts';

export { DEFAULT_MYSQL, loadConfig } from './internal/config/config.ts';
export { type DataSource, parseMysqlDataSource, parsePostgresDataSource } from './internal/config/datasource.ts';
export { checkAdjustInfo, effectOf } from './internal/logic/adjust.ts';
export {
  type Accounts,
  type Bank,
  DB_WAIT_MS,
  dbError,
  type LedgerKey,
  openBank,
  SEED_ACCOUNTS,
} from './internal/model/bank.ts';

/** The database named by trans's YAML (`file`), refusing a YAML without one: trans would then not move money. */
export function bankSourceOf(file: string): DataSource {
  readYaml(file); // a missing or unreadable file fails here with go-zero's message
  const c: Config = loadConfig(file);
  if (!c.Bank) {
    throw new Error(
      `config ${file}: no Mysql or Postgres section, so a trans started with it only logs; ` +
        'pass the YAML trans runs with, e.g. --bank apps/trans/etc/bank.yaml',
    );
  }
  return c.Store;
}
