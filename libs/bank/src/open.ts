// Opens the bank on the database a DataSource names: ./mysql.ts or ./postgres.ts behind the one contract of ./store.ts.
import type { DataSource } from './datasource.ts';
import { mysqlBank } from './mysql.ts';
import { postgresBank } from './postgres.ts';
import type { Bank } from './store.ts';

/** The bank on `source` (nothing is connected until the first call; `migrate()` creates what is missing). */
export function openBank(source: DataSource): Bank {
  return source.dialect === 'mysql' ? mysqlBank(source) : postgresBank(source);
}
