// A project outside the monorepo, as a stranger writes it against the published packages (test/consumer.int.test.ts
// installs the packed tarballs into a temp folder, type-checks this file with plain tsc and runs the emitted
// JavaScript with plain node): a stack from the testkit, a TransSvc served with RpcServer and registered in etcd,
// and a msg, a saga and a tcc through dtm. Prints `<mode> <gid> <status>` per transaction; exits 1 unless all succeed.
import { createServer } from 'node:net';
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
import { startDtmStack } from '@dtm-gozero/testkit';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function status(dtmHttp: string, gid: string): Promise<string> {
  const res = await fetch(`${dtmHttp}/api/dtmsvr/query?gid=${encodeURIComponent(gid)}`, {
    signal: AbortSignal.timeout(5000),
  });
  const body = (await res.json()) as { transaction: { status: string } | null };
  return body.transaction?.status ?? 'unknown';
}

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
    const s = await status(stack.dtmHttp, gid);
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
