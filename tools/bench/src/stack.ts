// The etcd + dtm the bench measures through: a running stack (--etcd, --dtm), or one of its own on free ports
// (the testkit's startDtmStack), with --store redis a Redis of its own too (the testkit's startDatabases).
import {
  type DtmStack,
  type RedisDatabase,
  startDatabases,
  startDtmStack,
  type TestDatabases,
} from '@dtm-gozero/testkit';
import type { BenchOptions } from './options.ts';
import { comm } from './proc.ts';

export interface BenchStack {
  /** etcd's client endpoints. */
  hosts: string[];
  /** dtm's gRPC target (etcd://…/dtmservice). */
  dtm: string;
  /** dtm's process, when the stack is the bench's own (its CPU time is measured). */
  dtmPid: number | undefined;
  /** dtm's HTTP API, to ask what became of transactions that reported an error (a running stack: --dtm-http). */
  dtmHttp: string | undefined;
  /** The report's `store`: the store of our own stack, or which running stack. */
  label: string;
  /** Stops what the bench started; a cleanup problem is said on stderr, not thrown (the figures are kept). */
  stop(): Promise<void>;
}

export async function openStack(o: BenchOptions): Promise<BenchStack> {
  if (o.etcd && o.dtm)
    return {
      hosts: o.etcd,
      dtm: o.dtm,
      dtmPid: undefined,
      dtmHttp: o.dtmHttp,
      label: `running stack (${o.dtm})`,
      stop: async () => undefined,
    };
  process.stderr.write(`bench: starting etcd + dtm (store ${o.store}, free ports)…\n`);
  const redis = o.store === 'redis' ? await startOwnRedis() : undefined;
  let stack: DtmStack;
  try {
    // Local binaries unless DTM_TESTKIT_BACKEND asks otherwise: the figures are of this machine's dtm, and an
    // answering Docker engine (the testkit's default choice) has no images to pull here.
    stack = await startDtmStack({
      store: o.store,
      redis: redis?.redis,
      backend: process.env.DTM_TESTKIT_BACKEND ? undefined : 'local',
    });
  } catch (err) {
    await redis?.stop().catch(() => undefined);
    throw err;
  }
  return {
    hosts: stack.etcdEndpoints,
    dtm: stack.dtmTarget,
    dtmPid: stack.pids.find((p) => comm(p) === 'dtm'),
    dtmHttp: stack.dtmHttp,
    label: o.store,
    async stop() {
      // A cleanup problem (e.g. store keys left behind) must not throw away the figures: say it and go on.
      await stack.stop().catch((err: unknown) => {
        process.stderr.write(
          `bench: warning: stopping the stack: ${err instanceof Error ? err.message : String(err)}\n`,
        );
      });
      await redis?.stop().catch(() => undefined); // after dtm, whose store it is
    },
  };
}

/**
 * --store redis: a Redis of the bench's own on a free port, without persistence — a run needs no `db.sh up`, never
 * touches a Redis of the user's, and its keys vanish with it.
 */
async function startOwnRedis(): Promise<TestDatabases<'redis'> & { redis: RedisDatabase }> {
  try {
    const db = await startDatabases({ servers: ['redis'] });
    process.stderr.write(`bench: redis of its own at ${db.redis.host}:${db.redis.port}\n`);
    return db;
  } catch (err) {
    throw new Error(
      `--store redis: redis-server did not start (bash scripts/setup-db.sh installs it): ${(err as Error).message}`,
    );
  }
}
