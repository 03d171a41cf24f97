// `npm start`: etcd and dtm in the background (scripts/stack.sh up: their logs go to .stack/etcd.log and
// .stack/dtm.log), trans in the foreground with its own output untouched. Arguments go to trans
// (`npm start -- -f other.yaml`).
//
// `npm start -- --observe` also runs Jaeger (OTLP gRPC 127.0.0.1:4317, query API :16686) and Prometheus
// (http://localhost:9090, scraping trans's DevServer on 6060), and trans with apps/trans/etc/trans-observe.yaml
// unless -f names another file (docs/observability.md).
//
// Stopping: trans runs in a process group of its own, so the terminal's Ctrl-C reaches npm and this script, not
// trans; etcd and dtm run in sessions of their own (setsid in stack.sh). On SIGINT/SIGTERM/SIGHUP this script sends
// trans one SIGTERM, waits until it has revoked its registration and exited, then stops the etcd and dtm it started
// (servers that already answered, e.g. after `npm run stack:up`, are left running). When trans exits by itself,
// the same cleanup follows; the exit status is trans's.
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { Child } from './lib/child.ts';
import { startJaeger, startPrometheus } from './lib/observability.ts';

const root = join(import.meta.dirname, '..');
const stack = join(root, 'scripts/stack.sh');

const up = spawnSync('bash', [stack, 'up'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
process.stdout.write(up.stdout);
// Only what this `up` started is ours to stop: "etcd: started …" / "dtm: started …".
const ours = ['dtm', 'etcd'].filter((s) => new RegExp(`^${s}: started`, 'm').test(up.stdout));
const stopStack = (): void => {
  if (ours.length > 0) spawnSync('bash', [stack, 'down', ...ours], { cwd: root, stdio: 'inherit' });
};
if (up.status !== 0) {
  stopStack();
  process.exit(1);
}
const observe = process.argv.includes('--observe');
const transArgs = process.argv.slice(2).filter((a) => a !== '--observe');
const observers: Child[] = [];
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
    await Promise.all(observers.map((c) => c.stop()));
    stopStack();
    process.exit(1);
  }
  if (!transArgs.some((a) => a === '-f' || a.startsWith('-f=') || a.startsWith('--f')))
    transArgs.push('-f', join(root, 'apps/trans/etc/trans-observe.yaml'));
}
console.log(
  `npm start: etcd's and dtm's logs are in ${join(root, '.stack')}; trans follows (Ctrl-C stops trans, then ${ours.length > 0 ? ours.join(' and ') : 'nothing else: etcd and dtm were already running'})`,
);

const trans = spawn(process.execPath, [join(root, 'apps/trans/src/trans.ts'), ...transArgs], {
  cwd: process.env.INIT_CWD ?? process.cwd(), // a relative -f is the user's, as with `npm run trans`
  stdio: 'inherit',
  detached: true, // its own process group: the terminal's Ctrl-C does not reach it; we send one SIGTERM
});

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  trans.kill('SIGTERM');
};
for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, stop);

trans.on('exit', async (code, signal) => {
  await Promise.all(observers.map((c) => c.stop()));
  stopStack();
  process.exit(stopping ? 0 : (code ?? (signal ? 1 : 0)));
});
