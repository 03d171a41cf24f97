import { dtmConfig, dtmConfigYaml, readSharedDtmConfig } from './dtm-config.ts';
import { DTM_SERVICE_KEY } from './etcd-args.ts';
import type { MysqlServer } from './stores.ts';

/** One dtm instance of a cluster of the caller's own: several instances over one MySQL store, one etcd cluster. */
export interface DtmInstanceOptions {
  /** The etcd members dtm registers through (`host:port` each). */
  etcdHosts: string[];
  httpPort: number;
  grpcPort: number;
  /** The shared store (its database made with `createMysqlDatabase`). */
  mysql: MysqlServer;
  db: string;
  /** Overrides of the project's shared dtm settings (e.g. `{ RetryInterval: 10 }`). */
  settings?: Record<string, unknown>;
}

/**
 * The YAML to give `dtm -c` for one instance of a scaled-out dtm (dtm's model: stateless servers over one database,
 * each registered under `dtmservice`): the shared settings of infra/dtm/config.yml, so a cluster cannot drift from
 * the single stack.
 */
export function dtmInstanceConfig(o: DtmInstanceOptions): string {
  const store = {
    Driver: 'mysql',
    Host: o.mysql.host,
    Port: o.mysql.port,
    User: o.mysql.user,
    Password: o.mysql.password,
    Db: o.db,
  };
  const addr = {
    target: `etcd://${o.etcdHosts.join(',')}/${DTM_SERVICE_KEY}`,
    endPoint: `127.0.0.1:${o.grpcPort}`,
    httpPort: o.httpPort,
    grpcPort: o.grpcPort,
  };
  return dtmConfigYaml(dtmConfig({ ...readSharedDtmConfig(), ...o.settings }, addr, store));
}
