// Jaeger and Prometheus on free loopback ports (the tracing/metrics tests, `npm start -- --observe`): each started
// from a config of its own in a temp dir, each wait bounded.
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, type Proc, start } from '@dtm-gozero/devkit';
import { waitUntil } from '@dtm-gozero/testkit';

export const JAEGER_VERSION = 'v1.75.0';

/** Where scripts/setup-observability.sh builds Jaeger. */
export function jaegerBinary(): string {
  const cache = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  const bin = join(cache, 'dtm-gozero-ts', `jaeger-${JAEGER_VERSION}`);
  if (!existsSync(bin)) {
    throw new Error(
      `Jaeger ${JAEGER_VERSION} is not built (${bin} missing); run npm run setup (scripts/setup-observability.sh)`,
    );
  }
  return bin;
}

/** Polls `url` until it answers 200; rejects after `ms` or when the child exits. */
async function until200(child: Proc, url: string, ms: number): Promise<void> {
  const ok = async (): Promise<boolean> => {
    const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
    if (r.status !== 200) throw new Error(`HTTP ${r.status}`);
    return true;
  };
  const exited = (): string | undefined => (child.child.exitCode === null ? undefined : `${child.name} exited`);
  await waitUntil(ok, ms, `${child.name}: ${url} ready`, exited, 200).catch((err: Error) => {
    throw new Error(`${err.message}: ${child.stderr().slice(-2000)}`);
  });
}

export interface Jaeger {
  child: Proc;
  /** `127.0.0.1:<port>`: Telemetry.Endpoint for `Batcher: otlpgrpc`. */
  otlpGrpc: string;
  otlpHttp: string;
  /** `http://127.0.0.1:<port>/api/v2/spans`: Telemetry.Endpoint for `Batcher: zipkin`. */
  zipkin: string;
  /** `http://127.0.0.1:<port>`: the query API (`/api/traces`) and the UI. */
  queryUrl: string;
}

/**
 * Jaeger's all-in-one (in-memory storage) with OTLP gRPC/HTTP and Zipkin receivers and the query API on the given (default
 * free) ports; its own telemetry off, so it opens no other port.
 */
export async function startJaeger(
  ports: { otlpGrpc?: number; otlpHttp?: number; query?: number; zipkin?: number; host?: string } = {},
): Promise<Jaeger> {
  const host = ports.host ?? '127.0.0.1';
  const [otlpGrpc, otlpHttp, query, queryGrpc, zipkin] = [
    ports.otlpGrpc ?? (await freePort()),
    ports.otlpHttp ?? (await freePort()),
    ports.query ?? (await freePort()),
    await freePort(),
    ports.zipkin ?? (await freePort()),
  ];
  const config = join(mkdtempSync(join(tmpdir(), 'jaeger-')), 'jaeger.yaml');
  writeFileSync(
    config,
    `service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp, zipkin]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
extensions:
  jaeger_query:
    storage:
      traces: mem
    http:
      endpoint: ${host}:${query}
    grpc:
      endpoint: ${host}:${queryGrpc}
  jaeger_storage:
    backends:
      mem:
        memory:
          max_traces: 100000
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: ${host}:${otlpGrpc}
      http:
        endpoint: ${host}:${otlpHttp}
  zipkin:
    endpoint: ${host}:${zipkin}
processors:
  batch:
    timeout: 200ms
exporters:
  jaeger_storage_exporter:
    trace_storage: mem
`,
  );
  const child = start('jaeger', jaegerBinary(), ['--config', config], { keep: 20_000 });
  const queryUrl = `http://${host}:${query}`;
  try {
    await until200(child, `${queryUrl}/api/services`, 60_000);
  } catch (err) {
    await child.stop(2000);
    throw err;
  }
  return {
    child,
    otlpGrpc: `${host}:${otlpGrpc}`,
    otlpHttp: `${host}:${otlpHttp}`,
    zipkin: `http://${host}:${zipkin}/api/v2/spans`,
    queryUrl,
  };
}

/** A span as Jaeger's query API returns it. */
export interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references: { refType: string; traceID: string; spanID: string }[];
  tags: { key: string; value: unknown }[];
  processID: string;
  /** µs since the epoch, and µs. */
  startTime: number;
  duration: number;
}

export interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string }>;
}

/** `GET /api/traces` with these parameters (e.g. service, tags). */
export async function findTraces(queryUrl: string, params: Record<string, string>): Promise<JaegerTrace[]> {
  const qs = new URLSearchParams({ limit: '50', lookback: '1h', ...params });
  let r: Response;
  try {
    r = await fetch(`${queryUrl}/api/traces?${qs}`, { signal: AbortSignal.timeout(5000) });
  } catch (err) {
    const why = (err as Error & { cause?: Error }).cause?.message ?? (err as Error).message;
    throw new Error(
      `Jaeger's query API at ${queryUrl} does not answer (${why}); is Jaeger running (npm start -- --observe)?`,
    );
  }
  if (r.status !== 200) throw new Error(`jaeger /api/traces?${qs}: HTTP ${r.status} ${await r.text()}`);
  return ((await r.json()) as { data: JaegerTrace[] | null }).data ?? [];
}

export interface Prometheus {
  child: Proc;
  url: string;
}

/** Prometheus (Debian's) scraping `targets` every second, data in a temp dir. */
export async function startPrometheus(
  targets: { job: string; target: string; path?: string }[],
  opts: { port?: number; host?: string } = {},
): Promise<Prometheus> {
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'prometheus-'));
  const scrape = targets
    .map(
      (t) =>
        `  - job_name: ${JSON.stringify(t.job)}\n    metrics_path: ${JSON.stringify(t.path ?? '/metrics')}\n    static_configs:\n      - targets: [${JSON.stringify(t.target)}]\n`,
    )
    .join('');
  writeFileSync(join(dir, 'prometheus.yml'), `global:\n  scrape_interval: 1s\nscrape_configs:\n${scrape}`);
  const child = start(
    'prometheus',
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=${host}:${port}`,
    ],
    { keep: 20_000 },
  );
  const url = `http://${host}:${port}`;
  try {
    await until200(child, `${url}/-/ready`, 60_000);
  } catch (err) {
    await child.stop(2000);
    throw err;
  }
  return { child, url };
}

/** An instant PromQL query through Prometheus's HTTP API: the result vector. */
export async function promQuery(
  url: string,
  query: string,
): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const r = await fetch(`${url}/api/v1/query?${new URLSearchParams({ query })}`, { signal: AbortSignal.timeout(5000) });
  const body = (await r.json()) as { status: string; error?: string; data: { result: [] } };
  if (body.status !== 'success') throw new Error(`prometheus query ${query}: ${body.error}`);
  return body.data.result;
}
