import type { Backend, BackendRequest } from './backend-types.ts';
import type { DtmStore, MysqlServer, RedisServer } from './stores.ts';

/** Options of `startDtmStack`. */
export interface DtmStackOptions {
  /** dtm's store: `boltdb` (default, a file in a temp dir), `mysql` (a fresh database), `redis` (a fresh key prefix). */
  store?: DtmStore | undefined;
  /** `auto` (default): docker when an engine answers, else local; `DTM_TESTKIT_BACKEND` overrides `auto`. */
  backend?: BackendRequest | undefined;
  /** Deadline of the whole start-up, in ms (default 30 s local, 180 s docker: images may need pulling). */
  timeoutMs?: number | undefined;
  /** Receives every line etcd, dtm (and store containers) print, prefixed `[etcd]`, `[dtm]`, …, and the fixture's own. */
  log?: ((line: string) => void) | undefined;
  /** Local backend, store `mysql`: the server to create the database on (default: 127.0.0.1:3306, root / dtm-test). */
  mysql?: MysqlServer | undefined;
  /** Local backend, store `redis`: the server (default: 127.0.0.1:6379). */
  redis?: RedisServer | undefined;
  /** Local backend: the etcd binary (default: env ETCD_BIN, else `etcd` on PATH). */
  etcdBin?: string | undefined;
  /**
   * Local backend: the dtm binary (default: env DTM_BIN, else `dtm` on PATH, else what this repository's
   * `npm run setup` built: `<repo>/.cache/bin/dtm`, then `~/.cache/dtm-gozero-ts/dtm-v1.19.0`).
   */
  dtmBin?: string | undefined;
  /**
   * Local backend: etcd with authentication enabled for this root account; dtm registers and resolves branch
   * URLs with it the way its go-zero driver allows (`MicroService.Target: etcd://<hosts>/dtmservice?user=…&password=…`).
   * Give your services `Etcd.User`/`Etcd.Pass` and `stack.etcdEndpoints` as their hosts (the same spelling).
   */
  etcdAuth?: { user: 'root'; password: string } | undefined;
  /** Grace period of `stop()` before SIGKILL (or the container stop timeout), in ms (default 5000). */
  stopTimeoutMs?: number | undefined;
}

/** The ports one stack listens on (all on the host's loopback, both backends). */
export interface DtmStackPorts {
  etcdClient: number;
  etcdPeer: number;
  dtmHttp: number;
  dtmGrpc: number;
  /** The MySQL or Redis container's port (docker backend, stores mysql/redis). */
  store?: number | undefined;
}

/** A running etcd + dtm pair of one's own. */
export interface DtmStack {
  /** etcd hosts in go-zero's `Etcd.Hosts` form: `['127.0.0.1:<port>']`. */
  etcdEndpoints: string[];
  /** `http://127.0.0.1:<port>`, for etcd's HTTP API and clients that want a URL. */
  etcdUrl: string;
  /** dtm's gRPC address, `127.0.0.1:<port>` (direct mode). */
  dtmGrpc: string;
  /** dtm's HTTP base, `http://127.0.0.1:<port>` (`/api/ping`, `/api/dtmsvr/query?gid=`). */
  dtmHttp: string;
  /** `etcd://127.0.0.1:<port>/dtmservice`: dtm through the go-zero etcd resolver, as the example's app uses it. */
  dtmTarget: string;
  backend: Backend;
  store: DtmStore;
  ports: DtmStackPorts;
  /** Local backend: the pids of etcd and dtm. */
  pids: number[];
  /** Docker backend: the ids of the containers. */
  containerIds: string[];
  /** Store `mysql`: the database dtm writes to (dropped by `stop()` on the local backend). */
  mysqlDatabase?: string | undefined;
  /** Store `redis`: dtm's key prefix (its keys deleted by `stop()`). */
  redisPrefix?: string | undefined;
  /** The generated dtm config (YAML) the stack runs with. */
  dtmConfig: string;
  /** Stops exactly what this stack started and removes its data; safe to call more than once. */
  stop(): Promise<void>;
}
