// Tracing across dtm and go-zero's metrics, against the real servers: Jaeger v1.75 (OTLP) receives the spans of our
// app, our trans and the go-zero trans under interop/ (go-zero's own `Telemetry`); for every mode one trace holds
// the app's span and the server span of every branch dtm (or the app) called, in TypeScript and in Go. Debian's
// Prometheus scrapes our trans's DevServer and the go-zero trans's Prometheus agent; one PromQL finds both.
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { eventually, freePort, type Proc, root, start, tempFile } from '@dtm-gozero/devkit';
import { testDatabases, testStack } from '@dtm-gozero/devkit/stack';
import { telemetryConf } from '@dtm-gozero/gozero';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
// The exporter factory is internal to the library (startAgent uses it): reached by path.
import { createExporter, TRACE_NAME } from '../../libs/gozero/src/trace/agent.ts';
import {
  findTraces,
  type Jaeger,
  type JaegerTrace,
  type Prometheus,
  promQuery,
  startJaeger,
  startPrometheus,
} from '../../scripts/lib/observability.ts';
import { traceHtml } from '../../scripts/lib/trace-html.ts';
import { buildGo, gozeroYaml, startTrans, type Trans } from '../../scripts/lib/twins.ts';
import { CHROMIUM, chromium } from '../support/chromium.ts';

const stack = testStack();
const hosts = stack.etcdEndpoints;
let jaeger: Jaeger;
let prometheus: Prometheus | undefined;
const trans: Partial<Record<'ts' | 'go', Trans & { key: string; metrics: string }>> = {};
/** One cross-dtm trace per language (the saga's), for the picture. */
const sagaTraces: Partial<Record<'ts' | 'go', JaegerTrace>> = {};

const telemetry = (name: string): string =>
  `Telemetry:\n  Name: ${name}\n  Endpoint: ${jaeger.otlpGrpc}\n  Batcher: otlpgrpc\n  Sampler: 1.0\n`;

beforeAll(async () => {
  buildGo();
  jaeger = await startJaeger();
  const [tsDev, goProm] = [await freePort(), await freePort()];
  const tsKey = `obs-ts-${randomUUID().slice(0, 8)}`;
  const goKey = `obs-go-${randomUUID().slice(0, 8)}`;
  // Ours: the bank in the suite's MariaDB (xa, msg-db), metrics on the DevServer as go-zero v1.10 serves them.
  const ts = await startTrans('ts', hosts, tsKey, {
    yaml: `${telemetry('trans-ts')}DevServer:\n  Host: 127.0.0.1\n  Port: ${tsDev}\nMysql:\n  DataSource: ${testDatabases().mysqlUrl}dtm_busi\n`,
  });
  trans.ts = { ...ts, key: tsKey, metrics: `127.0.0.1:${tsDev}` };
  // go-zero v1.4.4 records metrics once its Prometheus agent runs (its DevServer does not turn them on).
  const go = await startTrans('go', hosts, goKey, {
    yaml: `${telemetry('trans-go')}Prometheus:\n  Host: 127.0.0.1\n  Port: ${goProm}\n  Path: /metrics\n`,
  });
  trans.go = { ...go, key: goKey, metrics: `127.0.0.1:${goProm}` };
}, 900_000);

afterAll(async () => {
  await Promise.all([trans.ts?.child.stop(), trans.go?.child.stop(), prometheus?.child.stop(), jaeger?.child.stop()]);
});

/** Runs `npm run app -- <mode>` against the trans under `key`, with Telemetry on; returns the gid it printed. */
async function runApp(mode: string, key: string): Promise<string> {
  const config = tempFile('config.yaml', gozeroYaml(hosts, key) + telemetry('app'));
  // msg-db's local step: the bank named by a trans YAML (the same database as the ts trans's).
  const bank = tempFile(
    'bank.yaml',
    `Name: trans.rpc\nListenOn: 127.0.0.1:1\nMysql:\n  DataSource: ${testDatabases().mysqlUrl}dtm_busi\n`,
  );
  const app: Proc = start(
    `app ${mode}`,
    process.execPath,
    [
      join(root, 'apps/app/src/main.ts'),
      mode,
      '-f',
      config,
      '--bank',
      bank,
      '--dtm',
      stack.dtmTarget,
      '--dtm-http',
      stack.dtmHttp,
    ],
    { cwd: join(root, 'apps/app') },
  );
  const code = await app.exited(60_000);
  expect(code, app.stderr()).toBe(0);
  const [line] = app.stdout().trim().split('\n');
  const [m, gid, status] = (line ?? '').split(' ');
  expect([m, status]).toEqual([mode, 'succeed']);
  return gid as string;
}

const serverSpans = (t: JaegerTrace, service: string): string[] =>
  t.spans
    .filter((s) => t.processes[s.processID]?.serviceName === service)
    .filter((s) => s.tags.some((tag) => tag.key === 'span.kind' && tag.value === 'server'))
    .map((s) => s.operationName.replace('trans.TransSvc/', ''))
    .sort();

// The branches each mode's success path calls on trans (tries and XA phase 1 by the app, the rest by dtm).
const BRANCHES: Record<string, string[]> = {
  msg: ['TransIn', 'TransOut'],
  tcc: ['TransIn', 'TransInConfirm', 'TransOut', 'TransOutConfirm'],
  saga: ['TransIn', 'TransOut'],
  xa: ['TransInXa', 'TransInXa', 'TransOutXa', 'TransOutXa'],
  'msg-db': ['TransIn'],
};

describe.each([
  ['ts', ['msg', 'tcc', 'saga', 'xa', 'msg-db']],
  // The go-zero twin answers the database-free methods only (its XA and QueryPrepared are Unimplemented).
  ['go', ['msg', 'tcc', 'saga']],
] as const)('Jaeger: one trace from the app through dtm to the %s trans', (lang, modes) => {
  test.each(modes)(
    '%s',
    async (mode) => {
      const t = trans[lang];
      if (!t) throw new Error(`${lang} trans did not start`);
      const gid = await runApp(mode, t.key);
      const service = `trans-${lang}`;
      const expected = BRANCHES[mode] as string[];
      // Go's batcher sends every 5 s: wait for all the branch spans to arrive.
      const found = await eventually(
        async () => {
          const traces = await findTraces(jaeger.queryUrl, {
            service: 'app',
            tags: JSON.stringify({ 'dtm.gid': gid }),
          });
          const tr = traces[0];
          return traces.length === 1 && tr && serverSpans(tr, service).length >= expected.length ? traces : undefined;
        },
        45_000,
        `the trace of ${mode} ${gid} with ${expected.length} ${service} server spans`,
      );
      expect(found).toHaveLength(1);
      const tr = found[0] as JaegerTrace;
      expect(serverSpans(tr, service)).toEqual(expected);
      // Every span of the transaction is in this one trace, the app's root span first.
      const root = tr.spans.find((s) => s.operationName === `app ${mode}`);
      expect(root?.references ?? []).toEqual([]);
      expect(new Set(tr.spans.map((s) => s.traceID))).toEqual(new Set([tr.traceID]));
      // Our client's spans for the calls to dtm are in it too.
      expect(tr.spans.map((s) => s.operationName)).toContain('dtmgimp.Dtm/Submit');
      if (mode === 'saga') sagaTraces[lang] = tr;
    },
    120_000,
  );
});

test('Prometheus: the same PromQL returns series for our trans and the go-zero trans', async () => {
  const ts = trans.ts;
  const go = trans.go;
  if (!ts || !go) throw new Error('trans did not start');
  prometheus = await startPrometheus([
    { job: 'trans-ts', target: ts.metrics },
    { job: 'trans-go', target: go.metrics },
  ]);
  // Calls on both (the Jaeger tests ran before; this run makes sure of at least one each).
  await runApp('saga', ts.key);
  await runApp('saga', go.key);
  const url = prometheus.url;
  const query = 'sum by (job) (rpc_server_requests_code_total{method="/trans.TransSvc/TransOut",code="0"})';
  const jobs = await eventually(
    async () => {
      const r = await promQuery(url, query);
      const names = r.map((s) => s.metric.job).sort();
      return names.length === 2 ? r : undefined;
    },
    30_000,
    `both jobs in ${query}`,
  );
  expect(jobs.map((s) => s.metric.job).sort()).toEqual(['trans-go', 'trans-ts']);
  for (const s of jobs) expect(Number(s.value[1])).toBeGreaterThanOrEqual(1);
  const buckets = await promQuery(url, 'count by (job) (rpc_server_requests_duration_ms_bucket)');
  expect(buckets.map((s) => s.metric.job).sort()).toEqual(['trans-go', 'trans-ts']);
}, 120_000);

test.each([
  ['otlpgrpc', () => jaeger.otlpGrpc],
  ['otlphttp', () => jaeger.otlpHttp],
  ['zipkin', () => jaeger.zipkin],
] as const)(
  'Telemetry.Batcher %s: the exporter go-zero offers delivers to Jaeger',
  async (batcher, endpoint) => {
    const name = `exporter-${batcher}-${randomUUID().slice(0, 6)}`;
    const exporter = createExporter(telemetryConf({ Name: name, Endpoint: endpoint(), Batcher: batcher }));
    const provider = new TracerProvider({
      resource: resourceFromAttributes({ 'service.name': name }),
      spanProcessors: [new SimpleSpanProcessor({ exporter })],
    });
    provider.getTracer(TRACE_NAME).startSpan('trans.TransSvc/TransOut').end();
    await provider.shutdown();
    const [t] = await eventually(
      async () => {
        const found = await findTraces(jaeger.queryUrl, { service: name });
        return found.length > 0 ? found : undefined;
      },
      20_000,
      `a ${batcher} span of ${name} in Jaeger`,
    );
    expect(t?.spans.map((s) => s.operationName)).toEqual(['trans.TransSvc/TransOut']);
  },
  60_000,
);

// docs/img/jaeger-trace.png (the docs' picture) with OBSERVABILITY_SCREENSHOT=docs, else a temp dir.
test.skipIf(!CHROMIUM && !process.env.CI)(
  'a saga across dtm into the go-zero trans, drawn from Jaeger in headless Chromium',
  { timeout: 120_000 },
  () => {
    expect(CHROMIUM, 'Chromium is needed for this test: apt-get install chromium (.ci/run installs it)').toBeDefined();
    const tr = sagaTraces.go;
    if (!tr) throw new Error('the go saga trace was not found (see the Jaeger tests above)');
    const dir = mkdtempSync(join(tmpdir(), 'trace-shot-'));
    const shot =
      process.env.OBSERVABILITY_SCREENSHOT === 'docs'
        ? join(root, 'docs/img/jaeger-trace.png')
        : join(dir, 'trace.png');
    const page = join(dir, 'trace.html');
    writeFileSync(page, traceHtml(tr));
    try {
      const dom = chromium(join(dir, 'profile'), ['--dump-dom', `file://${page}`]);
      expect(dom.status, dom.stderr.slice(-2000)).toBe(0);
      for (const svc of ['app', 'trans-go']) expect(dom.stdout).toContain(`data-service="${svc}"`);
      expect(dom.stdout).toContain('trans.TransSvc/TransIn');
      mkdirSync(dirname(shot), { recursive: true });
      const r = chromium(join(dir, 'profile'), [`--screenshot=${shot}`, `file://${page}`], '1280,250');
      expect(r.status, r.stderr.slice(-2000)).toBe(0);
      const png = readFileSync(shot);
      expect(png.subarray(1, 4).toString()).toBe('PNG');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
