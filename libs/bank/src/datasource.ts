/** Where the bank keeps its tables: a MySQL/MariaDB server or a PostgreSQL database. */
export type DataSource =
  | {
      dialect: 'mysql';
      host: string;
      port: number;
      user: string;
      password: string;
      database: string;
      /** go-sql-driver's `tls` parameter: false (default), true (verified), skip-verify, preferred (TLS when offered). */
      tls: MysqlTls;
      /** What to show in messages: the source with the password masked. */
      shown: string;
    }
  | { dialect: 'postgres'; url: string; database: string; shown: string };

export type MysqlTls = 'false' | 'true' | 'skip-verify' | 'preferred';
const TLS_VALUES: readonly string[] = ['false', 'true', 'skip-verify', 'preferred'];

/**
 * The source with its password replaced by `***`. A password may hold `/`, `:`, `@` or `%`, so it is found by
 * structure, not by its characters: the user ends at the first `:` after the scheme, the password at the last `@`
 * (a host, database or parameter has none; Go's DSN parser and WHATWG URLs split there too).
 */
export function maskPassword(s: string): string {
  const at = s.lastIndexOf('@');
  if (at < 0) return s;
  // a scheme only at the very start: a password may itself hold "://"
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(s);
  const start = scheme ? scheme[0].length : 0;
  const colon = s.indexOf(':', start);
  if (colon < 0 || colon > at) return s;
  return `${s.slice(0, colon)}:***${s.slice(at)}`;
}
const mask = maskPassword;

/** go-sql-driver's `tls` DSN parameter (also read from a mysql:// URL's query); other parameters are ignored. */
function tlsOf(query: string, fix: string): MysqlTls {
  const v = new URLSearchParams(query).get('tls');
  if (v === null || v === '') return 'false';
  const lower = v.toLowerCase();
  if (lower === '1') return 'true';
  if (lower === '0') return 'false';
  if (!TLS_VALUES.includes(lower)) {
    throw new Error(
      `${fix} (tls=${v}: a TLS config registered in Go code has no equivalent here; use tls=true, skip-verify, preferred or false)`,
    );
  }
  return lower as MysqlTls;
}

/**
 * Parses `Mysql.DataSource` in either form a user has: go-zero's own (Go's DSN, as a go-zero service's YAML has
 * it: `user:pass@tcp(host:port)/db?parseTime=true`) or a `mysql://user:pass@host:port/db` URL. Throws a message
 * naming the field and both accepted forms.
 */
export function parseMysqlDataSource(ds: string, where: string): DataSource {
  const fix = `${where}: Mysql.DataSource ${JSON.stringify(mask(ds))} is not a MySQL data source; write go-zero's form user:pass@tcp(127.0.0.1:3306)/dtm_busi?parseTime=true or a URL mysql://user:pass@127.0.0.1:3306/dtm_busi`;
  let user: string;
  let password: string;
  let host: string;
  let port: number;
  let database: string;
  let query = '';
  if (ds.startsWith('mysql://')) {
    let u: URL;
    try {
      u = new URL(ds);
    } catch {
      throw new Error(fix);
    }
    user = decoded(u.username, fix);
    password = decoded(u.password, fix);
    host = u.hostname;
    port = u.port === '' ? 3306 : Number(u.port);
    database = decoded(u.pathname.replace(/^\//, ''), fix);
    query = u.search;
  } else {
    // Go's DSN: [user[:password]@][net[(addr)]]/dbname[?param=value]; the password may contain ':' and '@'.
    const m = /^(?:(?<cred>.*)@)?(?<net>tcp|unix)?(?:\((?<addr>[^)]*)\))?\/(?<db>[^?]*)(?:\?(?<query>.*))?$/.exec(ds);
    if (!m?.groups || m.groups.net === 'unix') throw new Error(fix);
    const cred = m.groups.cred ?? '';
    const colon = cred.indexOf(':');
    user = colon < 0 ? cred : cred.slice(0, colon);
    password = colon < 0 ? '' : cred.slice(colon + 1);
    const addr = m.groups.addr || '127.0.0.1:3306';
    const c = addr.lastIndexOf(':');
    host = c < 0 ? addr : addr.slice(0, c);
    port = c < 0 ? 3306 : Number(addr.slice(c + 1));
    database = m.groups.db ?? '';
    query = m.groups.query ?? '';
  }
  if (!host || !Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(fix);
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(database)) {
    throw new Error(`${fix} (the database name, after the "/", must be a plain identifier such as dtm_busi)`);
  }
  const tls = tlsOf(query, fix);
  return { dialect: 'mysql', host, port, user, password, database, tls, shown: mask(ds) };
}

/** A URL part's %-escapes decoded; a stray `%` is the field's error, not a bare "URI malformed". */
function decoded(part: string, fix: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new Error(`${fix} (a "%" in a URL starts an escape such as %40; write a literal "%" as %25)`);
  }
}

/** Parses `Postgres.DataSource`: a `postgres://user:pass@host:port/db` URL. */
export function parsePostgresDataSource(ds: string, where: string): DataSource {
  const fix = `${where}: Postgres.DataSource ${JSON.stringify(mask(ds))} is not a PostgreSQL URL; write postgres://user:pass@127.0.0.1:5432/dtm_busi`;
  let u: URL;
  try {
    u = new URL(ds);
  } catch {
    throw new Error(fix);
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') throw new Error(fix);
  const database = decoded(u.pathname.replace(/^\//, ''), fix);
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(database)) {
    throw new Error(`${fix} (the database name, after the "/", must be a plain identifier such as dtm_busi)`);
  }
  return { dialect: 'postgres', url: ds, database, shown: mask(ds) };
}
