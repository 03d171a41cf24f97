// The etcd + dtm and the databases that test/integration/global-setup.ts starts with @dtm-gozero/testkit on free
// ports of their own: what it provides, how a test reads it, and trans / the app started against it.
import { join } from 'node:path';
import { freePort } from '@dtm-gozero/testkit';
import { inject } from 'vitest';
import { APP, type Proc, root, runNode, TRANS, tempFile } from './procs.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** go-zero's `Etcd.Hosts` form: `['127.0.0.1:<port>']`. */
    etcdEndpoints: string[];
    /** `etcd://127.0.0.1:<port>/dtmservice`: dtm found through etcd, as the example's app finds it. */
    dtmTarget: string;
    /** dtm's gRPC address, `127.0.0.1:<port>` (direct). */
    dtmGrpc: string;
    /** dtm's HTTP API, `http://127.0.0.1:<port>`. */
    dtmHttp: string;
    /** The suite's own MariaDB, Postgres and Redis (free ports, data in a temp dir). */
    databases: TestDatabases;
  }
}

/** A server of the suite's own, on loopback; user and password where it has them. */
export interface DbServer {
  host: string;
  port: number;
  user: string;
  password: string;
}

/** The suite's databases (test/integration/global-setup.ts), never a server that merely answers on 3306. */
export interface TestDatabases {
  /** MariaDB, root/dtm-test: `createPool({ ...mysql })`. */
  mysql: DbServer;
  /** `mysql://root:dtm-test@127.0.0.1:<port>/` (append a database name). */
  mysqlUrl: string;
  /** Postgres, postgres/dtm-test, database `postgres`. */
  postgres: DbServer & { database: string };
  /** `postgres://postgres:dtm-test@127.0.0.1:<port>/postgres`. */
  postgresUrl: string;
  redis: { host: string; port: number };
}

/** The suite's MariaDB / Postgres / Redis (inside a test file of the `integration` project). */
export function testDatabases(): TestDatabases {
  return inject('databases');
}

export interface TestStack {
  etcdEndpoints: string[];
  /** `http://<first endpoint>`, for the etcd3 client. */
  etcdUrl: string;
  dtmTarget: string;
  dtmGrpc: string;
  dtmHttp: string;
}

/** The integration stack's addresses (inside a test file of the `integration` project). */
export function testStack(): TestStack {
  const etcdEndpoints = inject('etcdEndpoints');
  return {
    etcdEndpoints,
    etcdUrl: `http://${etcdEndpoints[0]}`,
    dtmTarget: inject('dtmTarget'),
    dtmGrpc: inject('dtmGrpc'),
    dtmHttp: inject('dtmHttp'),
  };
}

/** YAML lines of `Etcd.Hosts` (default: the integration stack's etcd). */
const hostsYaml = (hosts: string | string[] = testStack().etcdEndpoints): string =>
  [hosts]
    .flat()
    .map((h) => `    - ${h}\n`)
    .join('');

/** `Mysql.DataSource` of the suite's own MariaDB (the DB-backed modes), as YAML lines. */
const mysqlYaml = (): string => `Mysql:\n  DataSource: ${testDatabases().mysqlUrl}dtm_busi\n`;

/**
 * Starts trans on a free port under a unique key in the test stack's etcd; resolves once it printed its banner.
 * `bank`: trans keeps the bank in the suite's MariaDB (the XA and DB modes need a database; never one on 3306).
 */
export async function startTrans(
  key: string,
  opts: { bank?: boolean } = {},
): Promise<{ proc: Proc; port: number; config: string }> {
  const port = await freePort();
  const config = tempFile(
    'trans.yaml',
    `Name: trans.rpc\nListenOn: 127.0.0.1:${port}\nEtcd:\n  Hosts:\n${hostsYaml()}  Key: ${key}\n${opts.bank ? mysqlYaml() : ''}`,
  );
  const proc = runNode(TRANS, ['-f', config], join(root, 'apps/trans'));
  await proc.waitFor(/Starting rpc server at/, 15_000);
  return { proc, port, config };
}

/** The app config the Go example uses, with another etcd key (and the test stack's etcd unless `hosts` is given). */
export function appConfig(key: string, hosts?: string | string[]): string {
  return tempFile('config.yaml', `Etcd:\n  Hosts:\n${hostsYaml(hosts)}  Key: ${key}\n`);
}

/**
 * Runs the app (from apps/app) against the test stack's dtm: `--dtm <dtmTarget> --dtm-http <dtmHttp>` are added
 * unless `args` pass their own, so neither the defaults (the fixed-port stack) nor DTM_TARGET / DTM_HTTP apply.
 */
export function runApp(args: string[]): Proc {
  const { dtmTarget, dtmHttp } = testStack();
  const own = (flag: string): boolean => args.some((a) => a === flag || a.startsWith(`${flag}=`));
  return runNode(
    APP,
    [...args, ...(own('--dtm') ? [] : ['--dtm', dtmTarget]), ...(own('--dtm-http') ? [] : ['--dtm-http', dtmHttp])],
    join(root, 'apps/app'),
  );
}
