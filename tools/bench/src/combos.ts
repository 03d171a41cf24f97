// The combinations a run measures, and the processes behind them: our trans and our worker always; with --compare
// also go-zero's trans, the Go worker, the ceiling (a bare grpc-go server whose branches cost nothing), its Node
// counterpart (a bare grpc-js server, with our trans's flags) and, in msg mode, the Connect worker (the same calls as
// our app on Connect's gRPC transport) and the Node floor (those calls on grpc-js alone, to the bare grpc-js server).
import { join } from 'node:path';
import { bin, type Proc, start } from '@dtm-gozero/devkit';
import type { BenchOptions } from './options.ts';
import type { GidSource } from './protocol.ts';
import type { ComboId, IdleServer } from './report.ts';
import type { TransLauncher } from './trans.ts';
import { TransProbe } from './trans-probe.ts';
import { startWorker, type Worker } from './workers.ts';

/** The Connect row: our app's like-for-like calls (NewGid + Submit) on Connect's gRPC transport instead of grpc-js. */
export const CONNECT_LABEL = "our app's calls on Connect's gRPC transport → our trans";
/** The Node floor: the same calls on grpc-js alone, to the bare grpc-js server (the least a Node stack costs). */
export const NODE_FLOOR_LABEL = 'Node floor: bare grpc-js app → bare grpc-js server';

/** A combination: which load generator drives which branch server. */
export interface Combo {
  id: ComboId;
  label: string;
  worker: Worker;
  busi: string;
  server: Proc;
  /** Our worker's gid source for this combination (--compare: NewGid except the localGid row). */
  gid?: GidSource | undefined;
  /** Our trans's runtime probe (absent for the Go servers). */
  probe?: TransProbe | undefined;
}

export interface Lineup {
  /** In the order they run each round: ours first (the soak drives it). */
  combos: Combo[];
  tsWorker: Worker;
  /** The branch servers whose idle RSS the run records, by pid. */
  servers: Partial<Record<IdleServer, number>>;
}

/**
 * Starts the processes of the run's combinations on `hosts` (etcd) and `dtm`. Each goes into `children` as soon as
 * it runs, so that the caller stops them (in reverse) whatever fails next. `beforeWorkers` runs once our trans is up
 * (it creates the xa bank's tables, which the accounts' funding needs).
 */
export async function startLineup(
  o: BenchOptions,
  hosts: string[],
  dtm: string,
  trans: TransLauncher,
  children: { stop(): Promise<void> }[],
  beforeWorkers: () => Promise<void> = async () => undefined,
): Promise<Lineup> {
  const tag = Math.random().toString(36).slice(2, 8);
  const target = (key: string): string => `etcd://${hosts.join(',')}/${key}`;
  const tsTrans = await trans.start('ts', hosts, `bench-ts-${tag}`);
  children.push(tsTrans.child);
  const tsProbe = new TransProbe(tsTrans.child.pid, trans.probeFile);
  await beforeWorkers();
  const viaConnect = o.client === 'connect' && !o.compare;
  const app = { cpuProf: o.cpuProf, nodeOptions: o.appNodeOptions };
  const tsWorker = await startWorker(viaConnect ? 'connect' : 'ts', dtm, { ...app, gid: o.gid });
  children.push(tsWorker);
  const ours = { worker: tsWorker, busi: target(`bench-ts-${tag}`), server: tsTrans.child, probe: tsProbe };
  const combos: Combo[] = [
    { id: 'ours', label: viaConnect ? CONNECT_LABEL : 'our app → our trans', ...ours, gid: o.gid },
  ];
  if (!o.compare) return { combos, tsWorker, servers: { ts: tsTrans.child.pid } };

  const goTrans = await trans.start('go', hosts, `bench-go-${tag}`);
  children.push(goTrans.child);
  const goWorker = await startWorker('go', dtm);
  children.push(goWorker);
  const ceilingKey = `bench-ceiling-${tag}`;
  const ceiling = start('go ceiling', join(bin, 'go-ceiling'), ['-etcd', hosts.join(','), '-key', ceilingKey]);
  children.push(ceiling);
  await ceiling.waitFor(/Starting rpc server at/, 15_000);
  const bareKey = `bench-bare-node-${tag}`;
  const bare = await trans.startBare(hosts, bareKey);
  children.push(bare);
  const goStack = { busi: target(`bench-go-${tag}`), server: goTrans.child };
  combos.push(
    { id: 'go', label: 'Go app → go-zero trans', worker: goWorker, ...goStack },
    { id: 'tsGo', label: 'our app → go-zero trans', worker: tsWorker, ...goStack, gid: 'dtm' },
    { id: 'goTs', label: 'Go app → our trans', ...ours, worker: goWorker, gid: undefined },
    {
      id: 'ceiling',
      label: 'ceiling: Go app → bare Go server',
      worker: goWorker,
      busi: target(ceilingKey),
      server: ceiling,
    },
    {
      id: 'bareNode',
      label: 'Go app → bare grpc-js server',
      worker: goWorker,
      busi: target(bareKey),
      server: bare.child,
      probe: bare.probe,
    },
    { id: 'oursLocal', label: 'our app (localGid) → our trans', ...ours, gid: 'local' },
  );
  // Connect's client and the bare grpc-js app make msg transactions only: in another mode their rows are left out.
  if (o.mode === 'msg') {
    const connectWorker = await startWorker('connect', dtm, app);
    children.push(connectWorker);
    combos.push({ id: 'connect', label: CONNECT_LABEL, ...ours, worker: connectWorker, gid: 'dtm' });
    const bareWorker = await startWorker('bare', dtm, app);
    children.push(bareWorker);
    combos.push({
      id: 'nodeFloor',
      label: NODE_FLOOR_LABEL,
      worker: bareWorker,
      busi: target(bareKey),
      server: bare.child,
      probe: bare.probe,
      gid: 'dtm',
    });
  }
  const servers = { ts: tsTrans.child.pid, go: goTrans.child.pid, bareNode: bare.child.pid, ceiling: ceiling.pid };
  return { combos, tsWorker, servers };
}
