// `npm run bench`: what a global transaction costs through the real dtm, as figures and a latency chart.
// Starts its own etcd + dtm (the testkit fixture, free ports) and an in-process TransSvc; every loop is bounded in
// count and time. Figures depend on the machine: compare runs on the same one.
import { performance } from 'node:perf_hooks';
import { closeConnections, genGid, MsgGrpc, SagaGrpc, tccGlobalTransaction } from '@dtm-gozero/dtmgrpc';
import { closeEtcdClients } from '@dtm-gozero/gozero';
import { TransSvcService as Svc } from '@dtm-gozero/proto/trans';
import { startDtmStack } from '@dtm-gozero/testkit';
import { startTransSvc } from '../test/support/busi.ts';

const DEADLINE_MS = 60_000; // per scenario
const req1 = { Amount: 30n, UserID: 1n };
const req2 = { Amount: 30n, UserID: 2n };

interface Result {
  name: string;
  count: number;
  concurrency: number;
  ms: number[];
  wallMs: number;
}

async function measure(name: string, count: number, concurrency: number, op: () => Promise<void>): Promise<Result> {
  const ms: number[] = [];
  const end = Date.now() + DEADLINE_MS;
  let started = 0;
  const t0 = performance.now();
  const worker = async (): Promise<void> => {
    while (started < count && Date.now() < end) {
      started++;
      const t = performance.now();
      await op();
      ms.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const r = { name, count: ms.length, concurrency, ms, wallMs: performance.now() - t0 };
  process.stderr.write(`  ${name}: ${r.count} done\n`);
  return r;
}

const pct = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

function table(results: Result[]): void {
  const rows = results.map((r) => {
    const s = [...r.ms].sort((a, b) => a - b);
    return [
      r.name,
      String(r.count),
      String(r.concurrency),
      pct(s, 50).toFixed(1),
      pct(s, 95).toFixed(1),
      pct(s, 99).toFixed(1),
      ((r.count / r.wallMs) * 1000).toFixed(0),
    ];
  });
  const head = ['scenario', 'n', 'conc', 'p50 ms', 'p95 ms', 'p99 ms', 'per s'];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(w[i] as number) : c.padStart(w[i] as number))).join('  ');
  console.log(line(head));
  console.log(w.map((n) => '-'.repeat(n)).join('  '));
  for (const r of rows) console.log(line(r));
}

/** A text histogram of one scenario's latencies, so the shape (tail, modes) shows at a glance. */
function chart(r: Result, buckets = 12, width = 40): void {
  const s = [...r.ms].sort((a, b) => a - b);
  const lo = s[0] ?? 0;
  const hi = pct(s, 99);
  const step = Math.max((hi - lo) / buckets, 0.01);
  const counts = new Array<number>(buckets).fill(0);
  for (const v of s) counts[Math.min(buckets - 1, Math.floor((v - lo) / step))]++;
  const max = Math.max(...counts);
  console.log(`\n${r.name}: latency histogram (ms, up to p99)`);
  counts.forEach((c, i) => {
    const from = (lo + i * step).toFixed(1).padStart(7);
    console.log(`${from} │${'█'.repeat(Math.round((c / max) * width)).padEnd(width)} ${c}`);
  });
}

async function main(): Promise<void> {
  process.stderr.write('bench: starting etcd + dtm (testkit, free ports) and an in-process TransSvc…\n');
  const stack = await startDtmStack({ store: 'boltdb' });
  const busi = await startTransSvc();
  const memBefore = process.memoryUsage();
  try {
    const dtm = stack.dtmTarget;
    const b = busi.target;
    for (let i = 0; i < 5; i++) await genGid(dtm); // warm the channels
    const results: Result[] = [];
    process.stderr.write('bench: running (each scenario stops at its count or after 60 s)\n');
    results.push(await measure('NewGid', 300, 1, async () => void (await genGid(dtm))));
    const msg = async (): Promise<void> => {
      const m = new MsgGrpc(dtm, await genGid(dtm)).add(b, Svc.transOut, req1).add(b, Svc.transIn, req2);
      m.options.waitResult = true;
      await m.submit();
    };
    results.push(await measure('msg, 2 branches, waitResult', 150, 1, msg));
    results.push(await measure('msg, 2 branches, waitResult', 300, 8, msg));
    const tcc = async (): Promise<void> => {
      await tccGlobalTransaction(
        dtm,
        await genGid(dtm),
        async (t) => {
          await t.callBranch(b, { try: Svc.transOut, confirm: Svc.transOutConfirm, cancel: Svc.transOutRevert }, req1);
          await t.callBranch(b, { try: Svc.transIn, confirm: Svc.transInConfirm, cancel: Svc.transInRevert }, req2);
        },
        (t) => {
          t.options.waitResult = true;
        },
      );
    };
    results.push(await measure('tcc, 2 branches, waitResult', 150, 1, tcc));
    results.push(
      await measure('saga, 2 steps, waitResult', 150, 1, async () => {
        const s = new SagaGrpc(dtm, await genGid(dtm))
          .add(b, { action: Svc.transOut, compensate: Svc.transOutRevert }, req1)
          .add(b, { action: Svc.transIn, compensate: Svc.transInRevert }, req2);
        s.options.waitResult = true;
        await s.submit();
      }),
    );
    const memAfter = process.memoryUsage();
    console.log(`\ndtm ${stack.dtmGrpc} (boltdb), etcd ${stack.etcdEndpoints.join(',')}, Node ${process.version}\n`);
    table(results);
    chart(results[1] as Result);
    const mb = (n: number): string => `${(n / 2 ** 20).toFixed(1)} MiB`;
    console.log(
      `\nclient process: rss ${mb(memBefore.rss)} → ${mb(memAfter.rss)}, heap used ${mb(memBefore.heapUsed)} → ${mb(memAfter.heapUsed)}` +
        ` after ${results.reduce((n, r) => n + r.count, 0)} operations`,
    );
  } finally {
    await busi.stop();
    closeConnections();
    closeEtcdClients();
    await stack.stop();
  }
}

main().catch((err: unknown) => {
  console.error(`bench: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
