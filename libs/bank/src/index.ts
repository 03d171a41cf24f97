// The public API: what README.md's API table lists, nothing else (test/packages.test.ts checks the two agree).
export { type BankConfig, bankConfigFrom, bankSourceOf, DEFAULT_MYSQL } from './config.ts';
export { type DataSource, type MysqlTls, parseMysqlDataSource, parsePostgresDataSource } from './datasource.ts';
export { applyEffect, checkAdjustInfo, type Effect, effectOf } from './effects.ts';
export { openBank } from './open.ts';
export { type Accounts, type Bank, DB_WAIT_MS, type LedgerKey, MAX_BALANCE, SEED_ACCOUNTS } from './store.ts';
