import { startDtmStack } from '@dtm-gozero/testkit';
import type { TestProject } from 'vitest/node';
import type {} from '../support/stack-context.ts';

// One etcd + dtm (go-zero driver, boltdb) for the whole integration run, from @dtm-gozero/testkit, on free ports:
// the tests never use nor disturb the fixed-port stack of `npm run stack:up` (2379, 36789, 36790) or a trans a
// developer has running. Only the README test brings up that fixed-port stack, in its own copy of the tree.
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stack = await startDtmStack({ store: 'boltdb' }).catch((err: unknown) => {
    // The library names what is missing; in this repository, setup is what installs it.
    throw new Error(`${(err as Error).message} (in this repo: \`npm run setup\`)`, { cause: err });
  });
  project.provide('etcdEndpoints', stack.etcdEndpoints);
  project.provide('dtmTarget', stack.dtmTarget);
  project.provide('dtmGrpc', stack.dtmGrpc);
  project.provide('dtmHttp', stack.dtmHttp);
  process.stdout.write(
    `integration stack (${stack.backend}): etcd ${stack.etcdEndpoints.join(',')}, dtm ${stack.dtmTarget} (grpc ${stack.dtmGrpc}, http ${stack.dtmHttp})\n`,
  );
  return () => stack.stop();
}
