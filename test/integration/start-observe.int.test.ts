import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { APP, eventually, type Proc, root, runCommand, runNode } from '@dtm-gozero/devkit';
import { listeners } from '@dtm-gozero/devkit/docker';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { findTraces, type JaegerTrace, promQuery } from '../../scripts/lib/observability.ts';

// `npm start -- --observe` exactly as the docs give it: the local stack, Jaeger, Prometheus and trans on
// apps/trans/etc/trans-observe.yaml, all on their fixed ports (so, like compose.int.test.ts, run it alone:
// `flock /tmp/fixed-ports.lock npx vitest run test/integration/start-observe.int.test.ts`; the integration project
// runs one file at a time). Only the stack's folder is a temp one (STACK_DIR), so the checkout stays clean.

/** etcd (client, peer), dtm (HTTP, gRPC), trans, its DevServer, Jaeger (OTLP gRPC/HTTP, query), Prometheus. */
const PORTS = [2379, 2380, 36789, 36790, 50081, 6060, 4317, 4318, 16686, 9090];
const dir = mkdtempSync(join(tmpdir(), 'npm-start-observe-'));
const env = { STACK_DIR: join(dir, 'stack') };
let start: Proc | undefined;
const busy = (): number[] => PORTS.filter((p) => listeners().has(p));

beforeAll(() => {
  const taken = busy();
  if (taken.length > 0) {
    throw new Error(
      `ports ${taken.join(', ')} are taken (the local stack, compose, or another npm start?); npm start -- --observe needs them`,
    );
  }
});

afterAll(() => {
  // A run that failed half-way: whatever of its process group is left.
  try {
    if (start?.child.pid !== undefined) process.kill(-start.child.pid, 'SIGKILL');
  } catch {
    // the group is gone already
  }
  spawnSync('bash', [join(root, 'scripts/stack.sh'), 'down'], {
    env: { ...process.env, ...env },
    stdio: 'ignore',
    timeout: 60_000,
  });
  rmSync(dir, { recursive: true, force: true });
});

test('npm start -- --observe: a saga is one trace in its Jaeger, trans’s series in its Prometheus; Ctrl-C stops all', {
  timeout: 300_000,
}, async () => {
  // dtm's and etcd's ports lie in the ephemeral range: another process's socket can hold one for a moment, and the
  // stack then stops at once, naming it. That is retried once; a port that stays taken fails the test.
  for (let attempt = 1; ; attempt++) {
    const proc = runCommand('npm', ['start', '--', '--observe'], root, env, 'npm start -- --observe', { group: true });
    start = proc;
    const state = await eventually(
      async () => {
        if (/Starting rpc server at 127\.0\.0\.1:50081/.test(proc.stdout())) return 'up';
        return proc.child.exitCode !== null ? 'exited' : undefined;
      },
      180_000,
      'npm start -- --observe: trans started',
    );
    if (state === 'up') break;
    const out = `${proc.stdout()}\n${proc.stderr()}`;
    if (attempt > 1 || !/address already in use/.test(out)) throw new Error(`npm start -- --observe exited:\n${out}`);
    console.warn(`[start-observe] a port was taken at start, retrying once:\n${out.slice(-1500)}`);
    await eventually(async () => (busy().length === 0 ? true : undefined), 30_000, 'ports free').catch(() => {});
  }
  expect(start.stdout()).toContain("npm start: Jaeger's query API http://127.0.0.1:16686 (OTLP 127.0.0.1:4317");
  expect(start.stdout()).toContain('Prometheus http://127.0.0.1:9090');

  // The app as apps/app/etc/config-observe.yaml says to run it.
  const app = runNode(APP, ['saga', '-f', join(root, 'apps/app/etc/config-observe.yaml')], root);
  expect(await app.exited(60_000), app.stderr()).toBe(0);
  const [mode, gid, status] = app.stdout().trim().split(' ');
  expect([mode, status]).toEqual(['saga', 'succeed']);

  const [t] = await eventually(
    async () => {
      const found = await findTraces('http://127.0.0.1:16686', {
        service: 'app',
        tags: JSON.stringify({ 'dtm.gid': gid as string }),
      });
      const spans = found[0]?.spans.filter((s) => found[0]?.processes[s.processID]?.serviceName === 'trans.rpc');
      return found.length === 1 && (spans?.length ?? 0) >= 2 ? found : undefined;
    },
    45_000,
    `the trace of saga ${gid} with trans's two branch spans`,
  );
  const trace = t as JaegerTrace;
  const trans = trace.spans.filter((s) => trace.processes[s.processID]?.serviceName === 'trans.rpc');
  // dtm called both branches; they joined the app's trace through the branch headers.
  expect(trans.map((s) => s.operationName).sort()).toEqual(['trans.TransSvc/TransIn', 'trans.TransSvc/TransOut']);
  expect(trace.spans.find((s) => s.operationName === 'app saga')?.references).toEqual([]);

  // The docs' way to look at it: `npm run trace -- <gid>` writes the waterfall page.
  const out = join(dir, 'trace.html');
  const traced = spawnSync('npm', ['run', '--silent', 'trace', '--', gid as string, '-o', out], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(traced.status, traced.stderr).toBe(0);
  expect(traced.stdout).toContain(`spans of trace ${trace.traceID}`);
  expect(readFileSync(out, 'utf8')).toContain('trans.TransSvc/TransIn');

  const query = 'sum by (job) (rpc_server_requests_code_total{method="/trans.TransSvc/TransOut",code="0"})';
  const series = await eventually(
    async () => {
      const r = await promQuery('http://127.0.0.1:9090', query);
      return r.length === 1 && Number(r[0]?.value[1]) >= 1 ? r : undefined;
    },
    30_000,
    `trans's series for ${query}`,
  );
  expect(series.map((s) => s.metric.job)).toEqual(['trans']);

  // Ctrl-C to the foreground process group, as a terminal sends it: trans, Jaeger, Prometheus, dtm, etcd all stop.
  process.kill(-(start.child.pid as number), 'SIGINT');
  await start.exited(60_000);
  await eventually(async () => (busy().length === 0 ? true : undefined), 30_000, 'every port free').catch(() => {});
  expect(busy()).toEqual([]);
});
