// One run of `npm run bench`: the stack, the combinations' processes, a warm-up, the levels, what dtm made of the
// transactions that reported an error, the soak; then the report with its targets. Everything started is stopped
// on the way out, whatever failed.
import { cpus, loadavg } from 'node:os';
import { buildGo } from '../../../scripts/lib/twins.ts';
import { type Combo, type Lineup, startLineup } from './combos.ts';
import { type Ask, measureLevel } from './measure.ts';
import type { BenchOptions } from './options.ts';
import { outcomes } from './outcomes.ts';
import { childPids, rssMiB, stopProcesses } from './proc.ts';
import { Progress } from './progress.ts';
import { CALLS_PER_TX, type LevelResult } from './protocol.ts';
import { type BenchReport, type ErrorOutcome, machine, SOAK_SAMPLE_S } from './report.ts';
import { type BenchStack, openStack } from './stack.ts';
import { targets } from './targets.ts';
import { transLauncher } from './trans.ts';
import { startXaBank } from './xa-bank.ts';

/** The signal that interrupted the run (the run then exits 130 or 143 itself once everything is stopped). */
export let interrupted: NodeJS.Signals | undefined;

/** The soak's concurrency: our app alone, long enough for a leak to show in its heap after a full GC. */
const SOAK_CONCURRENCY = 16;

export async function runBench(o: BenchOptions, command: string): Promise<BenchReport> {
  const load0 = loadavg();
  if (o.compare) process.stderr.write(`bench: Go twins: ${buildGo().replace(/\n/g, '; ')}\n`);
  let stack: BenchStack | undefined;
  const children: { stop(): Promise<void> }[] = [];
  let stopping: Promise<void> | undefined;
  const stopAll = (): Promise<void> =>
    (stopping ??= (async () => {
      for (const c of children.reverse()) await c.stop().catch(() => undefined);
      await stack?.stop();
      // A process still starting when a signal came is in no list yet: whatever child is left goes the same way.
      await stopProcesses(childPids(process.pid));
    })());
  // A SIGINT or SIGTERM sent to the bench's pid alone (not to its process group, as a terminal's Ctrl-C is) would
  // otherwise leave trans and the workers running: stop them (each stop bounded), then exit as the signal asks.
  const onSignal = (sig: NodeJS.Signals): void => {
    if (interrupted) return;
    interrupted = sig;
    process.stderr.write(`\nbench: ${sig}: stopping what it started…\n`);
    void stopAll().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    stack = await openStack(o);
    const xaBank = o.mode === 'xa' ? await startXaBank() : undefined;
    if (xaBank) children.push(xaBank); // stopped after trans (children stop in reverse)
    const trans = transLauncher({
      source: o.trans,
      nodeOptions: o.transNodeOptions,
      cpuProf: o.cpuProf,
      yaml: xaBank?.yaml,
    });
    // Every loop of every level, the warm-up's (≤ 8) and the soak's gets its two funded accounts.
    const fund = async (): Promise<void> => xaBank?.fund(Math.max(...o.levels, o.soakS > 0 ? SOAK_CONCURRENCY : 1));
    const lineup = await startLineup(o, stack.hosts, stack.dtm, trans, children, fund);
    // Idle: started, registered, no call served yet (a pod's figure before traffic).
    await new Promise((res) => setTimeout(res, 3000));
    const report: BenchReport = {
      command,
      date: '',
      machine: machine(),
      load: { before: load0, after: [], note: '' },
      store: stack.label,
      mode: o.mode,
      gid: o.gid,
      client: o.client,
      trans: { source: o.trans, nodeArgs: trans.nodeArgs },
      ...(o.appNodeOptions.length > 0 ? { appNodeArgs: o.appNodeOptions } : {}),
      transIdleRssMiB: Object.fromEntries(Object.entries(lineup.servers).map(([k, pid]) => [k, rssMiB(pid)])),
      durationS: o.durationS,
      rounds: o.rounds,
      combos: Object.fromEntries(lineup.combos.map((c) => [c.id, c.label])),
      levels: [],
      targets: [],
    };
    await measure(o, lineup, stack, report);
    report.load.after = loadavg();
    report.load.note = `load average (1, 5, 15 min) of a ${cpus().length}-CPU machine; above ~${cpus().length} other work competed for the CPUs`;
    report.targets = targets(report);
    return report;
  } finally {
    await stopAll();
    // Interrupted: onSignal exits once everything is stopped; keep the handlers so that a second signal waits too.
    if (!interrupted) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }
}

/** The warm-up, the levels, the error outcomes and the soak, into `report`, with the progress on stderr. */
async function measure(o: BenchOptions, lineup: Lineup, stack: BenchStack, report: BenchReport): Promise<void> {
  const { combos } = lineup;
  const levelMs = o.durationS * 1000;
  const warmMs = Math.min(1000, levelMs);
  const progress = new Progress(combos.length * (warmMs + o.levels.length * o.rounds * levelMs) + o.soakS * 1000);
  const ask: Ask = (c, concurrency, ms) =>
    c.worker.request<LevelResult>(
      { mode: o.mode, concurrency, durationMs: ms, busi: c.busi, gid: c.gid },
      ms + 120_000,
    );

  // Warm-up, not recorded: resolve every target, open the connections, let V8 and Go's GC settle.
  for (const c of combos) {
    const done = progress.step(`warm-up ${c.label}`, warmMs);
    await ask(c, Math.min(8, Math.max(...o.levels)), warmMs);
    done();
  }
  report.date = new Date().toISOString();
  const errored: Omit<ErrorOutcome, 'status'>[] = [];
  const context = {
    combos,
    rounds: o.rounds,
    levelMs,
    dtmPid: stack.dtmPid,
    callsPerTx: CALLS_PER_TX[o.mode],
    ask,
    progress,
  };
  for (const concurrency of o.levels) {
    const { level, errored: e } = await measureLevel(context, concurrency);
    report.levels.push(level);
    errored.push(...e);
  }
  if (errored.length > 0 && stack.dtmHttp) {
    const done = progress.step(`asking dtm what became of ${errored.length} transactions that reported an error`, 0);
    report.errorOutcomes = await outcomes(stack.dtmHttp, errored.slice(0, 12), 60_000);
    done();
  }
  if (o.soakS > 0) report.soak = await soak(o.soakS, combos[0] as Combo, lineup, ask, progress);
  progress.end();
}

/**
 * Our app alone for `seconds` at SOAK_CONCURRENCY against our trans: the app's heap after a full GC at the start and
 * the end, and our trans's too, with its RSS sampled throughout.
 */
async function soak(
  seconds: number,
  ours: Combo,
  lineup: Lineup,
  ask: Ask,
  progress: Progress,
): Promise<NonNullable<BenchReport['soak']>> {
  const done = progress.step(`soak: our app, ${seconds} s at concurrency ${SOAK_CONCURRENCY}`, seconds * 1000);
  const heapStartMiB = await lineup.tsWorker.heapMiB();
  const transStart = await ours.probe?.snapshot();
  const rss: number[] = [];
  const sampler = setInterval(() => {
    const v = rssMiB(ours.server.pid);
    if (v !== undefined) rss.push(v);
  }, SOAK_SAMPLE_S * 1000);
  let r: LevelResult;
  try {
    r = await ask(ours, SOAK_CONCURRENCY, seconds * 1000);
  } finally {
    clearInterval(sampler);
  }
  const heapEndMiB = await lineup.tsWorker.heapMiB();
  const transEnd = await ours.probe?.snapshot();
  done();
  return {
    seconds,
    concurrency: SOAK_CONCURRENCY,
    heapStartMiB,
    heapEndMiB,
    tx: r.ok,
    errors: r.errors,
    trans: { heapStartMiB: transStart?.heapAfterGcMiB, heapEndMiB: transEnd?.heapAfterGcMiB, rssMiB: rss },
  };
}
