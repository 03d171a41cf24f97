import { barrierFromGrpc, DtmFailure, dtmHandler, genGid, SagaGrpc } from '@dtm-gozero/dtmgrpc';
import { TransSvcService as Svc, type TransSvcServer } from '@dtm-gozero/proto/trans';
import { ensureBarrierTable, freePort, startDatabases, startDtmStack, waitForStatus } from '@dtm-gozero/testkit';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { createPool } from 'mysql2/promise';
import { afterAll, beforeAll, expect, test } from 'vitest';

const [stack, dbs] = await Promise.all([startDtmStack(), startDatabases({ servers: ['mysql'] })]);
const pool = createPool(dbs.mysql.url);
const server = new Server();
let busi = ''; // the service under test, as dtm calls it: 127.0.0.1:<a free port>
const calls: string[] = [];

beforeAll(async () => {
  await ensureBarrierTable({ mysql: pool });
  const service = {
    transOut: dtmHandler(async (_req, call) => {
      calls.push('transOut');
      await barrierFromGrpc(call).callWithMysql(pool, () => {});
      return {};
    }),
    transOutRevert: dtmHandler(async (_req, call) => {
      calls.push('transOutRevert');
      await barrierFromGrpc(call).callWithMysql(pool, () => {});
      return {};
    }),
    transIn: dtmHandler(async () => {
      calls.push('transIn');
      throw new DtmFailure('account 2 is frozen'); // a refusal for good: dtm compensates, in reverse
    }),
    transInRevert: dtmHandler(async () => {
      calls.push('transInRevert');
      return {};
    }),
  } satisfies Partial<TransSvcServer>;
  server.addService(Svc, service);
  busi = `127.0.0.1:${await freePort()}`;
  await new Promise<void>((ok, fail) =>
    server.bindAsync(busi, ServerCredentials.createInsecure(), (err) => (err ? fail(err) : ok())),
  );
}, 180_000);

afterAll(async () => {
  server.forceShutdown();
  await pool.end();
  await Promise.all([dbs.stop(), stack.stop()]);
});

test('a saga whose second step refuses is compensated, behind the barrier', async () => {
  const gid = await genGid(stack.dtmTarget);
  await new SagaGrpc(stack.dtmTarget, gid)
    .add(busi, { action: Svc.transOut, compensate: Svc.transOutRevert }, { Amount: 30n, UserID: 1n })
    .add(busi, { action: Svc.transIn, compensate: Svc.transInRevert }, { Amount: 30n, UserID: 2n })
    .submit();
  expect(await waitForStatus(stack.dtmHttp, gid, 'failed')).toBe('failed');
  expect(calls).toEqual(['transOut', 'transIn', 'transInRevert', 'transOutRevert']);
  const [rows] = await pool.query('SELECT op FROM dtm_barrier.barrier WHERE gid = ? ORDER BY id', [gid]);
  expect(rows).toEqual([{ op: 'action' }, { op: 'compensate' }]);
});
