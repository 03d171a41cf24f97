// The etcd + dtm the integration global setup starts with @dtm-gozero/testkit (test/integration/global-setup.ts),
// on free ports of its own: what it provides, and how a test reads it.
import { inject } from 'vitest';

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
    /** The suite's own MariaDB, Postgres and Redis (scripts/db.sh on free ports, data in a temp dir). */
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
