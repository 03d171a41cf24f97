import { type RpcServerConf, readYaml, serverConfFrom } from '@dtm-gozero/gozero';

/** Where the DB-backed modes (xa, msg-db) keep balances and the barrier table. */
export const DEFAULT_MYSQL = 'mysql://root:dtm-test@127.0.0.1:3306/dtm_busi';

/**
 * trans's configuration: go-zero's RpcServerConf (as goctl's config.go embeds zrpc.RpcServerConf), plus an
 * optional `Mysql.DataSource` for the DB-backed modes. The Go example's etc/trans.yaml has no Mysql key and
 * loads unchanged; then the project's local MariaDB (scripts/db.sh) is used, and only when such a mode runs.
 */
export interface Config extends RpcServerConf {
  Mysql: { DataSource: string };
}

export function loadConfig(file: string): Config {
  const raw = readYaml(file);
  const base = serverConfFrom(raw, file);
  const mysql = (raw.Mysql ?? raw.mysql) as { DataSource?: unknown } | undefined;
  const ds = mysql?.DataSource;
  if (ds !== undefined && (typeof ds !== 'string' || !/^mysql:\/\//.test(ds))) {
    throw new Error(`config ${file}: Mysql.DataSource must be a mysql://user:pass@host:port/db URL`);
  }
  return { ...base, Mysql: { DataSource: (ds as string | undefined) ?? DEFAULT_MYSQL } };
}
