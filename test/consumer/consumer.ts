// A project outside the monorepo, as a stranger writes it against the published packages (test/consumer.int.test.ts
// installs the packed tarballs into a temp folder, type-checks this file with plain tsc and runs the emitted
// JavaScript with plain node): a stack from the testkit, a TransSvc served with RpcServer and registered in etcd,
// and a msg, a saga and a tcc through dtm. Prints `<mode> <gid> <status>` per transaction; exits 1 unless all succeed.
import {
  closeConnections,
  DtmFailure,
  dtmHandler,
  genGid,
  MsgGrpc,
  SagaGrpc,
  tccGlobalTransaction,
} from '@dtm-gozero/dtmgrpc';
import { buildTarget, closeEtcdClients, RpcServer } from '@dtm-gozero/gozero';
import { type AdjustInfo, type Response, type TransSvcServer, TransSvcService } from '@dtm-gozero/proto/trans';
import { freePort, startDtmStack, waitForStatus } from '@dtm-gozero/testkit';

const stack = await startDtmStack({ backend: 'local' });
const calls: string[] = [];
const handler = (name: string) =>
  dtmHandler<AdjustInfo, Response>(async (req, call) => {
    const op = String(call.metadata.get('dtm-op')[0] ?? '');
    calls.push(`${name}:${op}`);
    if (req.Amount < 0n) throw new DtmFailure('negative amount');
    return {};
  });
const impl: TransSvcServer = {
  transIn: handler('TransIn'),
  transOut: handler('TransOut'),
  transInConfirm: handler('TransInConfirm'),
  transInRevert: handler('TransInRevert'),
  transOutConfirm: handler('TransOutConfirm'),
  transOutRevert: handler('TransOutRevert'),
  transInXa: handler('TransInXa'),
  transOutXa: handler('TransOutXa'),
  queryPrepared: handler('QueryPrepared'),
};
const etcd = { Hosts: stack.etcdEndpoints, Key: `consumer-${process.pid}` };
const server = new RpcServer(
  { Name: 'consumer.rpc', ListenOn: `127.0.0.1:${await freePort()}`, Mode: 'pro', Timeout: 2000, Etcd: etcd },
  (s) => s.addService(TransSvcService, impl),
);
let failed = false;
try {
  await server.start();
  const busi = buildTarget({ Etcd: etcd, NonBlock: false, Timeout: 2000 });
  const dtm = stack.dtmTarget;
  const req = { Amount: 30n, UserID: 1n };

  const msgGid = await genGid(dtm);
  const msg = new MsgGrpc(dtm, msgGid).add(busi, TransSvcService.transOut, req).add(busi, TransSvcService.transIn, req);
  msg.options.waitResult = true;
  await msg.submit();

  const sagaGid = await genGid(dtm);
  const saga = new SagaGrpc(dtm, sagaGid)
    .add(busi, { action: TransSvcService.transOut, compensate: TransSvcService.transOutRevert }, req)
    .add(busi, { action: TransSvcService.transIn, compensate: TransSvcService.transInRevert }, req);
  saga.options.waitResult = true;
  await saga.submit();

  const tccGid = await genGid(dtm);
  await tccGlobalTransaction(
    dtm,
    tccGid,
    async (tcc) => {
      const out = {
        try: TransSvcService.transOut,
        confirm: TransSvcService.transOutConfirm,
        cancel: TransSvcService.transOutRevert,
      };
      const in_ = {
        try: TransSvcService.transIn,
        confirm: TransSvcService.transInConfirm,
        cancel: TransSvcService.transInRevert,
      };
      await tcc.callBranch(busi, out, req);
      await tcc.callBranch(busi, in_, req);
    },
    (tcc) => {
      tcc.options.waitResult = true;
    },
  );

  for (const [mode, gid] of [
    ['msg', msgGid],
    ['saga', sagaGid],
    ['tcc', tccGid],
  ] as const) {
    // waitResult: dtm answered Submit once the branches ran, so the status is final; bounded all the same
    const s = await waitForStatus(stack.dtmHttp, gid, 'succeed', { timeoutMs: 10_000 }).catch((e: Error) => e.message);
    console.log(`${mode} ${gid} ${s}`);
    if (s !== 'succeed') failed = true;
  }
  console.log(`calls ${calls.join(' ')}`);
} catch (err) {
  console.error(`consumer: ${err instanceof Error ? err.message : String(err)}`);
  failed = true;
} finally {
  await server.stop();
  closeConnections();
  closeEtcdClients();
  await stack.stop();
}
process.exit(failed ? 1 : 0);
