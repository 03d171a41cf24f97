// A service process with one workflow (`kill-wf`), for the test that SIGKILLs it in the middle of a run:
//   node workflow-service.ts <port> [<gid> pause]
// serves the workflow callback on 127.0.0.1:<port>; with a gid it also executes the workflow as that gid, and with
// `pause` it stops for good in step 03 after printing `PAUSED <gid>` (the test kills it there). Its steps: 01 a saga
// branch (trans.TransSvc TransOut, rollback TransOutRevert), 02 a local `do` that inserts a row, 03 another `do`,
// 04 an XA step on MariaDB, 05 a TCC-style branch (TransIn, commit TransInConfirm). The local rows have no unique
// key, so a step run twice would show as two rows. Settings come from the environment (WF_DTM, WF_BUSI, WF_MYSQL).
import { closeConnections, WorkflowRegistry } from '@dtm-gozero/dtmgrpc';
import { AdjustInfo, TransSvcService as Svc } from '@dtm-gozero/proto/trans';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { createPool } from 'mysql2/promise';

const [portArg, gid, pause] = process.argv.slice(2);
const need = (k: string): string => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set`);
  return v;
};
const busi = need('WF_BUSI');
const pool = createPool({ uri: need('WF_MYSQL'), connectionLimit: 3 });
const registry = new WorkflowRegistry(need('WF_DTM'), `127.0.0.1:${portArg}`);

const localRow = (g: string, step: string) =>
  pool.query('INSERT INTO dtm_wf_test.wf_local (gid, step) VALUES (?, ?)', [g, step]);

registry.register(
  'kill-wf',
  async (wf, req) => {
    wf.newBranch().onRollback(() => wf.callBranch(busi, Svc.transOutRevert, req));
    await wf.callBranch(busi, Svc.transOut, req);
    await wf.newBranch().do(() => localRow(wf.gid, '02'));
    await wf.newBranch().do(async () => {
      if (pause === 'pause') {
        process.stdout.write(`PAUSED ${wf.gid}\n`);
        await new Promise(() => {}); // killed here
      }
      await localRow(wf.gid, '03');
    });
    await wf.newBranch().doXa({ mysql: pool }, async (conn) => {
      await conn.query('INSERT INTO dtm_wf_test.wf_xa (gid, step) VALUES (?, ?)', [wf.gid, '04']);
    });
    wf.newBranch().onCommit(() => wf.callBranch(busi, Svc.transInConfirm, req));
    await wf.callBranch(busi, Svc.transIn, req);
  },
  (wf) => {
    wf.options.retryInterval = 2; // dtm comes back for it soon after the kill
  },
  AdjustInfo,
);

const server = new Server();
registry.addTo(server);
server.bindAsync(`127.0.0.1:${portArg}`, ServerCredentials.createInsecure(), (err) => {
  if (err) throw err;
  process.stdout.write(`LISTENING ${portArg}\n`);
  if (gid) {
    registry.execute('kill-wf', gid, { Amount: 30n, UserID: 1n }).then(
      () => process.stdout.write(`DONE ${gid}\n`),
      (e: unknown) => process.stdout.write(`ERROR ${gid} ${String(e)}\n`),
    );
  }
});
process.on('SIGTERM', () => {
  server.forceShutdown();
  closeConnections();
  void pool.end().finally(() => process.exit(0));
});
