import { type BankConfig, bankConfigFrom } from '@dtm-gozero/bank';
import { type RpcServerConf, readYaml, serverConfFrom } from '@dtm-gozero/gozero';

/**
 * trans's configuration: go-zero's RpcServerConf (as goctl's config.go embeds zrpc.RpcServerConf), plus the bank's
 * database. `Mysql.DataSource` (go-zero's Go DSN or a mysql:// URL) or `Postgres.DataSource` (a postgres:// URL)
 * turns trans into the bank: every branch moves money in that database through the barrier, and trans creates
 * the database, tables and barrier table at start. The Go example's etc/trans.yaml names none and loads
 * unchanged: then trans only logs, as the Go service does, and the XA branches use the local MariaDB.
 */
export interface Config extends RpcServerConf, BankConfig {}

export function loadConfig(file: string): Config {
  const raw = readYaml(file);
  const base = serverConfFrom(raw, file);
  return { ...base, ...bankConfigFrom(raw, `config ${file}`) };
}
