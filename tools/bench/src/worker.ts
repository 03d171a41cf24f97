// The TypeScript load generator of `npm run bench` (its Go twin: interop/gozero/app/bench.go, `go-app
// -bench-worker`; the protocol's types: protocol.ts). A long-lived process, so that /proc's CPU time around a level counts only that level's
// transactions. Protocol, one JSON object a line: prints "ready"; then for each stdin line
//   {"mode":"msg|tcc|saga|xa","concurrency":16,"durationMs":5000,"busi":"etcd://…/trans","gid":"dtm"}
// runs that many transactions at once for that long and prints {ok, errors, errorSamples, errorGids, latUs, elapsedMs,
// runtime} (runtime: this process's event-loop delay and GC pauses during the level; "gid" overrides --gid);
// {"mem":true} prints the heap after a full GC ({heapUsed, rss}); EOF ends the worker.
// `--gid local` (the default) makes each transaction's gid here (localGid: one call to dtm per msg, Submit);
// `--gid dtm` asks dtm for it first (NewGid, then Submit: the two calls dtm's Go client and the Go worker make).
// xa needs trans with the bank (a database in its YAML; the bench starts one): each of the `concurrency` loops moves
// money between its own two accounts (xaUsers), so the loops do not queue on one row's lock.
import { createInterface } from 'node:readline';
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
import { fullGc, runtimeMonitor } from './probe.ts';
import {
  type BenchMode,
  GID_SOURCES,
  type GidSource,
  type LevelRequest,
  type LevelResult,
  validRequest,
  xaUsers,
} from './protocol.ts';

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

async function runLevel(
  r: LevelRequest,
  dtm: string,
  gidFrom: GidSource,
  monitor: ReturnType<typeof runtimeMonitor>,
): Promise<LevelResult> {
  const res: LevelResult = { ok: 0, errors: 0, errorSamples: [], errorGids: [], latUs: [], elapsedMs: 0 };
  monitor.reset();
  const t0 = performance.now();
  const end = t0 + r.durationMs;
  const worker = async (_: unknown, slot: number): Promise<void> => {
    while (performance.now() < end) {
      const t = performance.now();
      let gid = '';
      try {
        gid = gidFrom === 'local' ? localGid() : await genGid(dtm);
        await oneTx(r.mode, gid, dtm, r.busi, slot);
        res.ok++;
        res.latUs.push(Math.round((performance.now() - t) * 1000));
      } catch (err) {
        res.errors++;
        if (res.errorSamples.length < 5) res.errorSamples.push(err instanceof Error ? err.message : String(err));
        if (gid && res.errorGids.length < 5) res.errorGids.push(gid);
      }
    }
  };
  await Promise.all(Array.from({ length: r.concurrency }, worker));
  res.elapsedMs = performance.now() - t0;
  res.runtime = monitor.snapshot();
  return res;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { dtm: { type: 'string' }, gid: { type: 'string', default: 'local' } } });
  const dtm = values.dtm;
  if (!dtm) throw new Error('--dtm <target> is required');
  const gidFrom = values.gid as GidSource;
  if (!GID_SOURCES.includes(gidFrom)) throw new Error(`--gid ${gidFrom}: want local or dtm`);
  await genGid(dtm); // resolve dtm and open the channel before "ready"
  const monitor = runtimeMonitor();
  process.stdout.write('ready\n');
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    const r = JSON.parse(line) as Partial<LevelRequest> & { mem?: boolean };
    if (r.mem) {
      fullGc();
      const m = process.memoryUsage();
      process.stdout.write(`${JSON.stringify({ heapUsed: m.heapUsed, rss: m.rss })}\n`);
      continue;
    }
    if (!validRequest(r))
      throw new Error(`bad request ${line}: want {"mode":"msg","concurrency":16,"durationMs":5000,"busi":"<target>"}`);
    process.stdout.write(`${JSON.stringify(await runLevel(r, dtm, r.gid ?? gidFrom, monitor))}\n`);
  }
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
