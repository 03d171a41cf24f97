import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, root } from '@dtm-gozero/devkit';
import { copyCheckout, docker, listeners, projectLeftovers, skipReason } from '@dtm-gozero/devkit/docker';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { findTraces, type JaegerTrace, promQuery } from '../../scripts/lib/observability.ts';

// `docker compose --profile observe` for real, in a clean copy of the checkout: Jaeger and Prometheus beside the
// stack, trans and the app on their -observe configs; one trace through dtm in Jaeger's query API, trans's go-zero
// metrics through Prometheus's. Fixed host ports, like compose.int.test.ts (the integration project runs one file
// at a time): run it alone (`flock /tmp/fixed-ports.lock npx vitest run test/integration/compose-observe.int.test.ts`).

const PROJECT = 'dtm-gozero-ts';
const STACK_PORTS = [2379, 2380, 3307, 36789, 36790, 50081];
/** Jaeger's OTLP gRPC/HTTP, query gRPC/HTTP, Prometheus, trans's DevServer. */
const OBSERVE_PORTS = [4317, 4318, 16685, 16686, 9090, 6060];
const JAEGER = 'http://127.0.0.1:16686';
const PROMETHEUS = 'http://127.0.0.1:9090';
const SKIP = skipReason('the compose observe-profile tests');

const work = mkdtempSync(join(tmpdir(), 'compose-observe-'));
const compose = (args: string[], timeout = 120_000) => docker(['compose', ...args], { cwd: work, timeout });
const observe = (args: string[], timeout = 120_000) => compose(['--profile', 'observe', ...args], timeout);
const busy = (ports: number[]): number[] => ports.filter((p) => listeners().has(p));
const logs = (service: string): string => compose(['logs', '--no-log-prefix', service]).stdout;

beforeAll(() => {
  if (SKIP) return;
  const taken = busy([...STACK_PORTS, ...OBSERVE_PORTS]);
  if (taken.length > 0) {
    throw new Error(
      `ports ${taken.join(', ')} are taken (the local stack? \`npm run stack:down\`; \`npm start -- --observe\`?); ` +
        'the compose stack with the observe profile needs them',
    );
  }
  copyCheckout(root, work);
});

afterAll(() => {
  if (!SKIP) observe(['down', '-v', '--remove-orphans', '-t', '5'], 120_000);
  rmSync(work, { recursive: true, force: true });
});

/** `up` of these services with the given profile args, retried once when the preflight saw a port taken for a moment. */
async function upWait(profile: string[], services: string[]): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    await eventually(
      async () => (busy([...STACK_PORTS, ...OBSERVE_PORTS]).length === 0 ? true : undefined),
      30_000,
      'the ports free',
    ).catch(() => {});
    const r = compose([...profile, 'up', '--build', '-d', '--wait', ...services], 900_000);
    if (r.status === 0) return;
    const why = `${r.stderr.slice(-3000)}\npreflight: ${logs('preflight')}\npreflight-observe: ${logs('preflight-observe')}`;
    // The stack's ports lie in the ephemeral range: another process's socket can hold one briefly (compose.int too).
    if (attempt === 1 && /preflight: port \d+ .* is already in use/.test(why)) {
      console.warn(`[compose-observe] a port was taken at start, retrying once:\n${why}`);
      compose([...profile, 'down', '-t', '5']);
      await new Promise((r) => setTimeout(r, 5000));
      continue;
    }
    throw new Error(`docker compose ${profile.join(' ')} up failed (${r.status}):\n${why}`);
  }
}

const serverSpans = (t: JaegerTrace, service: string) =>
  t.spans.filter(
    (s) =>
      t.processes[s.processID]?.serviceName === service &&
      s.tags.some((tag) => tag.key === 'span.kind' && tag.value === 'server'),
  );

describe.skipIf(SKIP)('docker compose --profile observe, for real', () => {
  let tccGid = '';

  test('up: Jaeger and Prometheus healthy; trans on its observe config (DevServer), after the profile preflight', {
    timeout: 960_000,
  }, async () => {
    await upWait(['--profile', 'observe'], ['trans', 'jaeger', 'prometheus']);
    expect(logs('preflight-observe')).toContain('preflight: ports 4317, 4318, 16685, 16686, 9090, 6060 are free');
    const ps = observe(['ps', '--format', '{{.Service}} {{.Health}}']).stdout;
    for (const svc of ['etcd', 'trans', 'jaeger', 'prometheus']) expect(ps).toContain(`${svc} healthy`);
    expect(logs('trans')).toContain('observe-profile: the observe profile is on: -f apps/trans/etc/trans-observe.yaml');
    const metrics = await fetch('http://127.0.0.1:6060/metrics', { signal: AbortSignal.timeout(5000) });
    expect(metrics.status).toBe(200);
    // Every server the profile adds listens on loopback only, as the rest of the stack (dtm aside).
    const l = listeners();
    for (const p of OBSERVE_PORTS) expect(l.get(p), `port ${p}`).toEqual(['127.0.0.1']);
  });

  test('the app (docker compose run) → one trace in Jaeger: its spans, dtm’s branch calls into trans', {
    timeout: 300_000,
  }, async () => {
    const run = observe(['run', '--rm', 'app'], 240_000);
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stderr).toContain('observe-profile: the observe profile is on: -f apps/app/etc/config-observe.yaml');
    const lines = run.stdout.trim().split('\n');
    expect(lines, run.stdout).toEqual([
      expect.stringMatching(/^msg \S+ succeed$/),
      expect.stringMatching(/^tcc \S+ succeed$/),
    ]);
    tccGid = (lines[1] as string).split(' ')[1] as string;
    // The Go example's seed: msg (TransOut, TransIn: dtm calls both) then TCC on TransOut (the app tries, dtm confirms).
    const expected = ['TransIn', 'TransOut', 'TransOut', 'TransOut'];
    const traces = await eventually(
      async () => {
        const found = await findTraces(JAEGER, { service: 'app', tags: JSON.stringify({ 'dtm.gid': tccGid }) });
        const t = found[0];
        return found.length === 1 && t && serverSpans(t, 'trans.rpc').length >= expected.length ? found : undefined;
      },
      60_000,
      `one trace of ${tccGid} in Jaeger with ${expected.length} trans server spans`,
    );
    const t = traces[0] as JaegerTrace;
    const server = serverSpans(t, 'trans.rpc');
    expect(server.map((s) => s.operationName.replace('trans.TransSvc/', '')).sort()).toEqual(expected);
    expect(new Set(t.spans.map((s) => s.traceID))).toEqual(new Set([t.traceID]));
    const rootSpan = t.spans.find((s) => s.operationName === 'app seed');
    expect(rootSpan?.references ?? ['no root span']).toEqual([]);
    // Spans of calls the app made itself have the app's client span as parent; the others came from dtm, which does
    // not trace: they joined through the branch headers the app gave dtm.
    const appSpans = new Set(
      t.spans.filter((s) => t.processes[s.processID]?.serviceName === 'app').map((s) => s.spanID),
    );
    const viaDtm = server.filter((s) => {
      const parent = t.spans.find((p) => p.spanID === s.references[0]?.spanID);
      return !parent?.tags.some((tag) => tag.key === 'span.kind' && tag.value === 'client');
    });
    expect(viaDtm.length).toBe(3);
    for (const s of server) expect(appSpans.has(s.references[0]?.spanID ?? ''), s.operationName).toBe(true);
    expect(t.spans.map((s) => s.operationName)).toContain('dtmgimp.Dtm/Submit');
    // The transcript is unchanged by the profile.
    expect(logs('trans').match(/transfer (out|in) 30 cents (from|to) \d/g)).toEqual([
      'transfer out 30 cents from 1',
      'transfer in 30 cents to 2',
      'transfer out 30 cents from 1',
      'transfer out 30 cents from 1',
    ]);
  });

  test('Prometheus scrapes trans’s go-zero metrics (the PromQL of observability.int) and dtm', {
    timeout: 120_000,
  }, async () => {
    const query = 'sum by (job) (rpc_server_requests_code_total{method="/trans.TransSvc/TransOut",code="0"})';
    const series = await eventually(
      async () => {
        const r = await promQuery(PROMETHEUS, query);
        return r.length === 1 && Number(r[0]?.value[1]) >= 3 ? r : undefined;
      },
      60_000,
      `trans's series for ${query}`,
    );
    expect(series.map((s) => s.metric.job)).toEqual(['trans']);
    const buckets = await promQuery(PROMETHEUS, 'count by (job) (rpc_server_requests_duration_ms_bucket)');
    expect(buckets.map((s) => s.metric.job)).toEqual(['trans']);
    const up = await promQuery(PROMETHEUS, 'up');
    expect(Object.fromEntries(up.map((s) => [s.metric.job, s.value[1]]))).toEqual({ trans: '1', dtm: '1' });
  });

  test('the next up without the profile: trans back on its plain config, no Jaeger, Prometheus or DevServer', {
    timeout: 960_000,
  }, async () => {
    // down without -v keeps the volume that holds the profile's flag: the default preflight must clear it.
    expect(observe(['down', '-t', '10'], 150_000).status).toBe(0);
    await upWait([], ['trans']);
    expect(logs('trans')).not.toContain('observe-profile');
    expect(logs('trans')).toContain('Starting rpc server at 127.0.0.1:50081');
    expect(busy(OBSERVE_PORTS)).toEqual([]);
    const ps = compose(['ps', '-a', '--format', '{{.Service}}']).stdout.trim().split('\n').sort();
    expect(ps).toEqual(['etcd', 'preflight', 'trans']);
  });

  test('down -v leaves no container, volume or listener behind', { timeout: 180_000 }, async () => {
    const down = observe(['down', '-v', '-t', '10'], 150_000);
    expect(down.status, down.stderr).toBe(0);
    expect(projectLeftovers(PROJECT)).toEqual({ containers: '', volumes: '' });
    await eventually(
      async () => (busy([...STACK_PORTS, ...OBSERVE_PORTS]).length === 0 ? true : undefined),
      15_000,
      'every port free',
    ).catch(() => {});
    expect(busy([...STACK_PORTS, ...OBSERVE_PORTS])).toEqual([]);
  });
});
