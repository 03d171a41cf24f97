// `npm start`: etcd and dtm in the background (scripts/stack.sh up: their logs go to .stack/etcd.log and
// .stack/dtm.log), trans in the foreground with its own output untouched. Arguments go to trans
// (`npm start -- -f other.yaml`).
//
// `npm start -- --observe` also runs Jaeger (OTLP gRPC 127.0.0.1:4317, query API :16686) and Prometheus
// (http://localhost:9090, scraping trans's DevServer on 6060), and trans with apps/trans/etc/trans-observe.yaml
// unless -f names another file (docs/observability.md).
//
// Stopping: `stack.sh up`, `stack.sh down` and trans run in process groups of their own, so the terminal's Ctrl-C
// reaches npm and this script only; etcd and dtm run in sessions of their own (setsid in stack.sh). This script
// handles SIGINT/SIGTERM/SIGHUP from its first line on: during `up` it sends `up` one SIGTERM (up then stops what it
// had started and says so), afterwards it sends trans one SIGTERM, waits until it has revoked its registration and
// exited, then stops the etcd and dtm it started (servers that already answered, e.g. after `npm run stack:up`, are
// left running). Later signals are ignored while it stops. When trans exits by itself, the same cleanup follows;
// the exit status is trans's (130 when interrupted during `up`).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { Proc } from '@dtm-gozero/devkit';
import { startJaeger, startPrometheus } from './lib/observability.ts';

const root = join(import.meta.dirname, '..');
const stack = join(root, 'scripts/stack.sh');

let interrupted = false;
let up: ChildProcess | undefined;
let trans: ChildProcess | undefined;
let ours: string[] = [];

const onSignal = (): void => {
  if (interrupted) return;
  interrupted = true;
  if (trans) trans.kill('SIGTERM');
  else if (up?.pid !== undefined && up.exitCode === null && up.signalCode === null) {
    console.error('npm start: interrupted while etcd and dtm start; stopping what was started');
    try {
      process.kill(-up.pid, 'SIGTERM'); // its group: bash and the sleep or curl it is waiting for
    } catch {
      // already gone
    }
  }
};
for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, onSignal);

/** Stops the etcd and dtm this run started, out of the terminal's reach, and says so (stack.sh prints each). */
const stopStack = (): void => {
  if (ours.length === 0) return;
  // setsid -w: a session of its own, so that a second Ctrl-C cannot cut `down` short; -w waits for it.
  spawnSync('setsid', ['-w', 'bash', stack, 'down', ...ours], { cwd: root, stdio: 'inherit', timeout: 60_000 });
  console.log(`npm start: stopped ${ours.join(' and ')}`);
  ours = [];
};

up = spawn('bash', [stack, 'up'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], detached: true });
let upOut = '';
up.stdout?.on('data', (d: Buffer) => {
  upOut += d.toString();
  process.stdout.write(d);
});
const upStatus = await new Promise<number>((resolve) => {
  up?.on('close', (code) => resolve(code ?? 1));
});
// Only what this `up` started is ours to stop: "etcd: started …" / "dtm: started …" (an interrupted up has stopped
// its own already; `down` then finds nothing and says so).
ours = ['dtm', 'etcd'].filter((s) => new RegExp(`^${s}: started`, 'm').test(upOut));
if (interrupted || upStatus !== 0) {
  stopStack();
  process.exit(interrupted ? 130 : 1);
}
const observe = process.argv.includes('--observe');
const transArgs = process.argv.slice(2).filter((a) => a !== '--observe');
const observers: Proc[] = [];
const stopObservers = async (): Promise<void> => {
  await Promise.all(observers.splice(0).map((c) => c.stop()));
};
if (observe) {
  try {
    const jaeger = await startJaeger({ otlpGrpc: 4317, otlpHttp: 4318, query: 16686 });
    observers.push(jaeger.child);
    const prom = await startPrometheus([{ job: 'trans', target: '127.0.0.1:6060' }], { port: 9090 });
    observers.push(prom.child);
    console.log(
      `npm start: Jaeger's query API ${jaeger.queryUrl} (OTLP ${jaeger.otlpGrpc}; see a transaction with npm run trace -- <gid>), Prometheus ${prom.url}`,
    );
  } catch (err) {
    console.error(`npm start --observe: ${(err as Error).message}`);
    await stopObservers();
    stopStack();
    process.exit(1);
  }
  if (!transArgs.some((a) => a === '-f' || a.startsWith('-f=') || a.startsWith('--f')))
    transArgs.push('-f', join(root, 'apps/trans/etc/trans-observe.yaml'));
}
if (interrupted) {
  await stopObservers();
  stopStack();
  process.exit(130);
}
console.log(
  `npm start: etcd's and dtm's logs are in ${join(root, '.stack')}; trans follows (Ctrl-C stops trans, then ${ours.length > 0 ? ours.join(' and ') : 'nothing else: etcd and dtm were already running'})`,
);

trans = spawn(process.execPath, [join(root, 'apps/trans/src/trans.ts'), ...transArgs], {
  cwd: process.env.INIT_CWD ?? process.cwd(), // a relative -f is the user's, as with `npm run trans`
  stdio: 'inherit',
  detached: true, // its own process group: the terminal's Ctrl-C does not reach it; we send one SIGTERM
});

trans.on('exit', async (code, signal) => {
  if (interrupted) console.log('npm start: trans stopped');
  await stopObservers();
  stopStack();
  process.exit(interrupted ? 0 : (code ?? (signal ? 1 : 0)));
});
