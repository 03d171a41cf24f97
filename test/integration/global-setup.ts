import { reapTempDirs } from '@dtm-gozero/devkit';
import type {} from '@dtm-gozero/devkit/stack';
import { startDtmStack } from '@dtm-gozero/testkit';
import type { TestProject } from 'vitest/node';
import { startOwnDatabases } from '../support/databases.ts';

// One etcd + dtm (go-zero driver, boltdb) for the whole integration run, from @dtm-gozero/testkit, and a MariaDB,
// Postgres and Redis of its own (the testkit's startDatabases), all on free ports with their data in temp dirs: the
// tests never use nor disturb the fixed-port stack of `npm run stack:up` (2379, 36789, 36790), the databases of
// `bash scripts/db.sh up` (3306, 5432, 6379), whatever else answers there, or a trans a developer has running.
// Only the README test brings up the fixed-port etcd + dtm, in its own copy of the tree.
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  reapTempDirs(); // those of earlier runs cut off before their teardown
  const dbs = await startOwnDatabases();
  let stack: Awaited<ReturnType<typeof startDtmStack>>;
  try {
    // Local binaries unless DTM_TESTKIT_BACKEND asks otherwise: the Docker backend has tests of its own, and the
    // shared stack must not depend on an engine that the Docker tests exercise (and CI stops) around it.
    stack = await startDtmStack({ store: 'boltdb', backend: process.env.DTM_TESTKIT_BACKEND ? undefined : 'local' });
  } catch (err) {
    await dbs.stop();
    // The library names what is missing; in this repository, setup is what installs it.
    throw new Error(`${(err as Error).message} (in this repo: \`npm run setup\`)`, { cause: err });
  }
  project.provide('etcdEndpoints', stack.etcdEndpoints);
  project.provide('dtmTarget', stack.dtmTarget);
  project.provide('dtmGrpc', stack.dtmGrpc);
  project.provide('dtmHttp', stack.dtmHttp);
  project.provide('databases', dbs.databases);
  const { mysql, postgres, redis } = dbs.databases;
  process.stdout.write(
    `integration stack (${stack.backend === 'local' && !process.env.DTM_TESTKIT_BACKEND ? 'local binaries; DTM_TESTKIT_BACKEND=docker runs it in containers' : stack.backend}): etcd ${stack.etcdEndpoints.join(',')}, dtm ${stack.dtmTarget} (grpc ${stack.dtmGrpc}, http ${stack.dtmHttp}); ` +
      `mariadb :${mysql.port}, postgres :${postgres.port}, redis :${redis.port} (data in ${dbs.dir})\n`,
  );
  return async () => {
    try {
      await stack.stop();
    } finally {
      await dbs.stop();
      reapTempDirs(); // the workers are gone: every config file the tests wrote
    }
  };
}
