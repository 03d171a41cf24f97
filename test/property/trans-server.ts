// trans's TransSvc (its logic, bank model and dtmgrpc's handler, unchanged) served in the test's process on a free
// port, with its bank in one of the suite's own databases. The one addition: `crashNext` makes the next barrier
// call of a branch op throw after its business SQL ran and before COMMIT, as a process dying there would (the
// database rolls the transaction back and drops the connection).

import type { Bank } from '@dtm-gozero/bank';
import { stopGrpcServer, tempFile } from '@dtm-gozero/devkit';
import { testDatabases } from '@dtm-gozero/devkit/stack';
import { TransSvcService } from '@dtm-gozero/proto/trans';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { loadConfig } from '../../apps/trans/src/internal/config/config.ts';
import { newTransSvcServer } from '../../apps/trans/src/internal/server/trans-svc-server.ts';
import { newServiceContext } from '../../apps/trans/src/internal/svc/service-context.ts';

export interface InProcessTrans {
  port: number;
  bank: Bank;
  /** The next barrier call of (gid, branch id, op) crashes before COMMIT. */
  crashNext(gid: string, branchId: string, op: string): void;
  stop(): Promise<void>;
}

/** `section: DataSource` as trans's YAML names its bank (Mysql: go-zero's DSN; Postgres: a URL). */
export async function startInProcessTrans(section: 'Mysql' | 'Postgres', dataSource: string): Promise<InProcessTrans> {
  const file = tempFile(
    'trans.yaml',
    `Name: trans.rpc\nListenOn: 127.0.0.1:0\n${section}:\n  DataSource: ${dataSource}\n`,
  );
  const ctx = newServiceContext(loadConfig(file));
  const bank = await ctx.bank();
  const crashes = new Set<string>();
  const key = (gid: string, branchId: string, op: string) => `${gid}\u0000${branchId}\u0000${op}`;
  const crashing: Bank = {
    ...bank,
    barrier(bb, busi) {
      const k = key(bb.gid, bb.branchId, bb.op);
      if (!crashes.delete(k)) return bank.barrier(bb, busi);
      return bank.barrier(bb, async (acc) => {
        await busi(acc);
        throw new Error(`injected crash between the business SQL and COMMIT of ${bb}`);
      });
    },
  };
  const server = new Server();
  server.addService(
    TransSvcService,
    newTransSvcServer({ config: ctx.config, bank: async () => crashing, close: ctx.close }),
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    port,
    bank,
    crashNext: (gid, branchId, op) => crashes.add(key(gid, branchId, op)),
    async stop() {
      await stopGrpcServer(server);
      await ctx.close();
    },
  };
}

/** The two databases the bank runs on, as `describe.each` rows: name, trans's YAML section. */
export const BANK_DATABASES = [
  ['MariaDB', 'Mysql'],
  ['PostgreSQL', 'Postgres'],
] as const;

/** startInProcessTrans with its bank in database `db` of the suite's own MariaDB or PostgreSQL. */
export function startOnSuiteDatabase(section: 'Mysql' | 'Postgres', db: string): Promise<InProcessTrans> {
  const { mysql, postgres } = testDatabases();
  return startInProcessTrans(
    section,
    section === 'Mysql'
      ? `${mysql.user}:${mysql.password}@tcp(${mysql.host}:${mysql.port})/${db}?parseTime=true`
      : `postgres://${postgres.user}:${postgres.password}@${postgres.host}:${postgres.port}/${db}`,
  );
}
