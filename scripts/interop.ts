// `npm run interop`: Go interop both ways, against a real etcd + dtm of its own (testkit, free ports):
//   1. our app (apps/app) → the go-zero trans (interop/gozero/trans): the transcript, in order;
//   2. the Go app (dtm's Go client + go-zero driver, interop/gozero/app) → our trans: the same transcript;
//   3. a Go go-zero client (interop/go-client) spreads its calls across two instances of our trans.
// Prints what it saw; exits non-zero when a scenario does not give what the Go example gives.
// test/integration/go-twins.int.test.ts runs the same scenarios with assertions.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { bin, start } from '@dtm-gozero/devkit';
import { startDtmStack } from '@dtm-gozero/testkit';
import { buildGo, type DtmAddrs, type Lang, runApp, startTrans, transcript } from './lib/twins.ts';

/** What the Go example's trans logs for its app's default run (msg, then TCC with TransOut as try and confirm). */
export const EXAMPLE_TRANSCRIPT = [
  'transfer out 30 cents from 1',
  'transfer in 30 cents to 2',
  'transfer out 30 cents from 1',
  'transfer out 30 cents from 1',
];

export interface AppRun {
  app: Lang;
  trans: Lang;
  code: number | null;
  /** The app's stdout lines: `<mode> <gid> <status>`. */
  appLines: string[];
  appStderr: string;
  /** trans's log lines, timestamps removed. */
  transcript: string[];
  transStderr: string;
}

const key = (what: string): string => `${what}-${randomUUID().slice(0, 8)}`;

/** One default run of the `app` twin against the `trans` twin. */
export async function appToTrans(app: Lang, trans: Lang, hosts: string[], dtm: DtmAddrs): Promise<AppRun> {
  const k = key(`interop-${app}-${trans}`);
  const t = await startTrans(trans, hosts, k);
  try {
    const a = runApp(app, hosts, k, dtm);
    const code = await a.exited(45_000);
    // With WaitResult every branch call has finished when the app exits; the log line is written before the answer.
    await t.child.stop();
    return {
      app,
      trans,
      code,
      appLines: a.stdout().trim().split('\n').filter(Boolean),
      appStderr: a.stderr(),
      transcript: transcript(t.child.stderr()),
      transStderr: t.child.stderr(),
    };
  } finally {
    await t.child.stop();
  }
}

export interface Spread {
  calls: number;
  code: number | null;
  clientOutput: string;
  /** Calls each instance logged, by port. */
  perInstance: Record<number, number>;
}

/** A go-zero client makes `calls` calls (`parallel` at a time) through etcd to two instances of our trans. */
export async function goClientSpread(hosts: string[], calls = 200, parallel = 8): Promise<Spread> {
  const k = key('interop-spread');
  const a = await startTrans('ts', hosts, k);
  const b = await startTrans('ts', hosts, k);
  try {
    const c = start('go-trans-client', join(bin, 'go-trans-client'), [
      ...['-etcd', hosts.join(','), '-key', k, '-method', 'TransOut', '-n', String(calls), '-c', String(parallel)],
      ...['-timeout', '20s'],
    ]);
    const code = await c.exited(30_000);
    await Promise.all([a.child.stop(), b.child.stop()]);
    const count = (t: typeof a): number =>
      transcript(t.child.stderr()).filter((l) => l === 'transfer out 30 cents from 1').length;
    return {
      calls,
      code,
      clientOutput: c.stdout() + c.stderr(),
      perInstance: { [a.port]: count(a), [b.port]: count(b) },
    };
  } finally {
    await Promise.all([a.child.stop(), b.child.stop()]);
  }
}

async function main(): Promise<void> {
  process.stderr.write('interop: building the Go twins (cached)…\n');
  process.stderr.write(`${buildGo()}\n`);
  const stack = await startDtmStack({ store: 'boltdb' });
  let failed = false;
  try {
    const hosts = stack.etcdEndpoints;
    console.log(`etcd ${hosts.join(',')}, dtm ${stack.dtmTarget} (dtm v1.19.0, go-zero driver)\n`);
    for (const [app, trans] of [
      ['ts', 'go'],
      ['go', 'ts'],
    ] as [Lang, Lang][]) {
      const r = await appToTrans(app, trans, hosts, stack);
      const same = r.code === 0 && JSON.stringify(r.transcript) === JSON.stringify(EXAMPLE_TRANSCRIPT);
      failed ||= !same;
      console.log(
        `${app === 'ts' ? 'our app' : 'Go app (dtm Go client)'} → ${trans === 'ts' ? 'our trans' : 'go-zero trans'}: exit ${r.code}`,
      );
      for (const l of r.appLines) console.log(`  app:   ${l}`);
      for (const l of r.transcript) console.log(`  trans: ${l}`);
      if (r.appStderr) console.log(`  app stderr: ${r.appStderr.trim()}`);
      console.log(`  ${same ? 'the Go example’s transcript, in order' : 'NOT the Go example’s transcript'}\n`);
    }
    const s = await goClientSpread(hosts);
    const counts = Object.entries(s.perInstance);
    const spread = s.code === 0 && counts.every(([, n]) => n > 0) && counts.reduce((n, [, c]) => n + c, 0) === s.calls;
    failed ||= !spread;
    console.log(
      `go-zero client → two instances of our trans: ${s.calls} calls, exit ${s.code} (${s.clientOutput.trim()})`,
    );
    for (const [port, n] of counts) console.log(`  127.0.0.1:${port}: ${n} calls`);
    console.log(`  ${spread ? 'spread across both' : 'NOT spread across both'}`);
  } finally {
    await stack.stop();
  }
  if (failed) process.exit(1);
}

if (import.meta.main) {
  main().catch((err: unknown) => {
    console.error(`interop: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
