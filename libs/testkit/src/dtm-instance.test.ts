import { expect, test } from 'vitest';
import { parse } from 'yaml';
import { readSharedDtmConfig } from './dtm-config.ts';
import { dtmInstanceConfig } from './dtm-instance.ts';

test("a cluster instance's config: its ports and etcd target, the shared store, the shared settings unless overridden", () => {
  const conf = parse(
    dtmInstanceConfig({
      etcdHosts: ['127.0.0.1:1', '127.0.0.1:2'],
      httpPort: 3,
      grpcPort: 4,
      mysql: { host: '127.0.0.1', port: 5, user: 'root', password: 'pw' },
      db: 'dtm',
      settings: { RetryInterval: 10 },
    }),
  ) as Record<string, unknown>;
  expect(conf).toMatchObject({
    HttpPort: 3,
    GrpcPort: 4,
    RetryInterval: 10,
    MicroService: { Target: 'etcd://127.0.0.1:1,127.0.0.1:2/dtmservice', EndPoint: '127.0.0.1:4' },
    Store: { Driver: 'mysql', Host: '127.0.0.1', Port: 5, User: 'root', Password: 'pw', Db: 'dtm' },
  });
  const shared = readSharedDtmConfig();
  for (const k of Object.keys(shared).filter(
    (k) => !['MicroService', 'Store', 'RetryInterval', 'HttpPort', 'GrpcPort'].includes(k),
  ))
    expect(conf[k], k).toEqual(shared[k]);
});
