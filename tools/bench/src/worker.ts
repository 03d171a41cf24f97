// The TypeScript load generator of `npm run bench` on grpc-js, through @dtm-gozero/dtmgrpc (its Go twin: interop/gozero/app/bench.go, `go-app
// -bench-worker`; the protocol's types: protocol.ts). A long-lived process, so that /proc's CPU time around a level counts only that level's
// transactions. Protocol, one JSON object a line: prints "ready"; then for each stdin line
//   {"mode":"msg|tcc|saga|xa","concurrency":16,"durationMs":5000,"busi":"etcd://…/trans","gid":"dtm"}
// runs that many transactions at once for that long and prints {ok, errors, errorSamples, errorGids, latUs, elapsedMs,
// runtime} (runtime: this process's event-loop delay and GC pauses during the level; "gid" overrides --gid);
// {"mem":true} prints the heap after a full GC ({heapUsed, rss}); EOF ends the worker (the loop: worker-loop.ts).
// `--gid local` (the default) makes each transaction's gid here (localGid: one call to dtm per msg, Submit);
// `--gid dtm` asks dtm for it first (NewGid, then Submit: the two calls dtm's Go client and the Go worker make).
// xa needs trans with the bank (a database in its YAML; the bench starts one): each of the `concurrency` loops moves
// money between its own two accounts (xaUsers), so the loops do not queue on one row's lock.
import { parseArgs } from 'node:util';
import {
  closeConnections,
  genGid,
  localGid,
  MsgGrpc,
  SagaGrpc,
  tccGlobalTransaction,
  xaGlobalTransaction,
} from '@dtm-gozero/dtmgrpc';
import { closeEtcdClients } from '@dtm-gozero/gozero';
import { TransSvcService as Svc } from '@dtm-gozero/proto/trans';
import { type BenchMode, GID_SOURCES, type GidSource, xaUsers } from './protocol.ts';
import { serve } from './worker-loop.ts';

const req1 = { Amount: 30n, UserID: 1n };
const req2 = { Amount: 30n, UserID: 2n };

/** XA: TransOutXa and TransInXa as two XA branches (phase 1 from here), dtm commits both (phase 2). */
async function xaTx(gid: string, dtm: string, busi: string, slot: number): Promise<void> {
  const [from, to] = xaUsers(slot);
  await xaGlobalTransaction(
    dtm,
    gid,
    async (x) => {
      await x.callBranch(busi, Svc.transOutXa, { Amount: req1.Amount, UserID: from });
      await x.callBranch(busi, Svc.transInXa, { Amount: req2.Amount, UserID: to });
    },
    (x) => {
      x.options.waitResult = true;
    },
  );
}

/** One global transaction of the mode, waiting for dtm's result (WaitResult), as the Go worker does. */
async function oneTx(mode: BenchMode, gid: string, dtm: string, busi: string, slot: number): Promise<void> {
  if (mode === 'xa') {
    await xaTx(gid, dtm, busi, slot);
  } else if (mode === 'msg') {
    const m = new MsgGrpc(dtm, gid).add(busi, Svc.transOut, req1).add(busi, Svc.transIn, req2);
    m.options.waitResult = true;
    await m.submit();
  } else if (mode === 'saga') {
    const s = new SagaGrpc(dtm, gid)
      .add(busi, { action: Svc.transOut, compensate: Svc.transOutRevert }, req1)
      .add(busi, { action: Svc.transIn, compensate: Svc.transInRevert }, req2);
    s.options.waitResult = true;
    await s.submit();
  } else {
    await tccGlobalTransaction(
      dtm,
      gid,
      async (t) => {
        await t.callBranch(busi, { try: Svc.transOut, confirm: Svc.transOutConfirm, cancel: Svc.transOutRevert }, req1);
        await t.callBranch(busi, { try: Svc.transIn, confirm: Svc.transInConfirm, cancel: Svc.transInRevert }, req2);
      },
      (t) => {
        t.options.waitResult = true;
      },
    );
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { dtm: { type: 'string' }, gid: { type: 'string', default: 'local' } } });
  const dtm = values.dtm;
  if (!dtm) throw new Error('--dtm <target> is required');
  const gidFrom = values.gid as GidSource;
  if (!GID_SOURCES.includes(gidFrom)) throw new Error(`--gid ${gidFrom}: want local or dtm`);
  await genGid(dtm); // resolve dtm and open the channel before "ready"
  await serve(
    {
      gid: (from) => (from === 'local' ? localGid() : genGid(dtm)),
      tx: (mode, gid, busi, slot) => oneTx(mode, gid, dtm, busi, slot),
    },
    gidFrom,
  );
}

if (import.meta.main)
  main()
    .then(() => {
      closeConnections();
      closeEtcdClients();
    })
    .catch((err: unknown) => {
      console.error(`bench-worker: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    });
