import { Fields } from './fields.ts';

/** go-zero's `trace.Config` (the `Telemetry` key): OpenTelemetry tracing of the service. */
export interface TelemetryConf {
  /** Service name in the traces; unset = the service's `Name` (go-zero's ServiceConf.SetUp). */
  Name: string;
  /** Collector address (`host:4317` for otlpgrpc, `host:4318` for otlphttp, a URL for zipkin, a path for file). */
  Endpoint: string;
  /** Ratio of new traces sampled, 0..1 (default 1); a sampled caller's trace is always followed. */
  Sampler: number;
  Batcher: TelemetryBatcher;
  OtlpHeaders: Record<string, string>;
  OtlpHttpPath: string;
  OtlpHttpSecure: boolean;
  Disabled: boolean;
}

/** The exporters go-zero offers (v1.10; v1.4's `jaeger` is refused: Jaeger takes OTLP since v1.35). */
export const BATCHERS = ['otlpgrpc', 'otlphttp', 'zipkin', 'file'] as const;
export type TelemetryBatcher = (typeof BATCHERS)[number];

/** go-zero's `prometheus.Config`: a metrics-only HTTP listener, on when `Host` is set. */
export interface PrometheusConf {
  Host: string;
  Port: number;
  Path: string;
}

/** go-zero's `devserver.Config`: `/metrics`, `/healthz` and profiles on one HTTP port. */
export interface DevServerConf {
  Enabled: boolean;
  Host: string;
  Port: number;
  MetricsPath: string;
  HealthPath: string;
  EnableMetrics: boolean;
  EnablePprof: boolean;
  HealthResponse: string;
}

/** The `Middlewares` toggles this module acts on (go-zero's default for each: true). */
export interface ObservabilityMiddlewares {
  Trace: boolean;
  Prometheus: boolean;
}

/** The observability part of go-zero's `ServiceConf` (+ `Middlewares` toggles), as go-zero fills it. */
export interface ObservabilityConf {
  /** Absent key = absent here (go-zero leaves an optional struct zero: no tracer provider, no exporter). */
  Telemetry?: TelemetryConf;
  Prometheus?: PrometheusConf;
  DevServer?: DevServerConf;
  Middlewares: ObservabilityMiddlewares;
}

/** A TelemetryConf with go-zero's defaults for what `c` leaves out (for code that calls startAgent itself). */
export function telemetryConf(c: Partial<TelemetryConf> & { Name: string }): TelemetryConf {
  return {
    Endpoint: '',
    Sampler: 1,
    Batcher: 'otlpgrpc',
    OtlpHeaders: {},
    OtlpHttpPath: '',
    OtlpHttpSecure: false,
    Disabled: false,
    ...c,
  };
}

function port(f: Fields, key: string, def: number): number {
  const p = f.int(key, def, 'a TCP port');
  if (p > 65535) f.fail(key, `must be a TCP port (0..65535), got ${p}`, 'fix its value');
  return p;
}

function path(f: Fields, key: string, def: string): string {
  const p = f.string(key) ?? def;
  if (!p.startsWith('/')) f.fail(key, `must be a URL path starting with "/", got "${p}"`, `e.g. "${key}: ${def}"`);
  return p;
}

function telemetry(f: Fields, name: string): TelemetryConf | undefined {
  const t = f.sub('Telemetry');
  if (!t) return undefined;
  const Sampler = t.number('Sampler', 1);
  if (!(Sampler >= 0 && Sampler <= 1)) {
    t.fail('Sampler', `must be a ratio between 0 and 1, got ${Sampler}`, 'e.g. "Sampler: 1.0" samples every trace');
  }
  const batcher = (t.string('Batcher') ?? 'otlpgrpc').toLowerCase();
  if (batcher === 'jaeger') {
    t.fail(
      'Batcher',
      'is "jaeger", an exporter go-zero dropped (Jaeger receives OTLP)',
      'use "Batcher: otlpgrpc" with "Endpoint: <jaeger-host>:4317"',
    );
  }
  if (!(BATCHERS as readonly string[]).includes(batcher)) {
    t.fail('Batcher', `"${batcher}" is not an exporter go-zero offers`, `use one of ${BATCHERS.join('|')}`);
  }
  return {
    Name: t.string('Name') ?? name,
    Endpoint: t.string('Endpoint') ?? '',
    Sampler,
    Batcher: batcher as TelemetryBatcher,
    OtlpHeaders: t.stringMap('OtlpHeaders'),
    OtlpHttpPath: t.string('OtlpHttpPath') ?? '',
    OtlpHttpSecure: t.bool('OtlpHttpSecure', false),
    Disabled: t.bool('Disabled', false),
  };
}

/**
 * Reads `Telemetry`, `Prometheus`, `DevServer` and `Middlewares.{Trace,Prometheus}` with go-zero's names and
 * defaults; `name` is the service's Name (Telemetry.Name's default). Values out of range are a ConfigError naming
 * the key.
 */
export function observabilityConf(f: Fields, name: string): ObservabilityConf {
  const conf: ObservabilityConf = { Middlewares: { Trace: true, Prometheus: true } };
  const Telemetry = telemetry(f, name);
  if (Telemetry) conf.Telemetry = Telemetry;
  const p = f.sub('Prometheus');
  if (p)
    conf.Prometheus = { Host: p.string('Host') ?? '', Port: port(p, 'Port', 9101), Path: path(p, 'Path', '/metrics') };
  const d = f.sub('DevServer');
  if (d) {
    conf.DevServer = {
      Enabled: d.bool('Enabled', true),
      Host: d.string('Host') ?? '',
      Port: port(d, 'Port', 6060),
      MetricsPath: path(d, 'MetricsPath', '/metrics'),
      HealthPath: path(d, 'HealthPath', '/healthz'),
      EnableMetrics: d.bool('EnableMetrics', true),
      EnablePprof: d.bool('EnablePprof', true),
      HealthResponse: d.string('HealthResponse') ?? 'OK',
    };
  }
  const m = f.sub('Middlewares');
  if (m) conf.Middlewares = { Trace: m.bool('Trace', true), Prometheus: m.bool('Prometheus', true) };
  return conf;
}

/**
 * The observability keys of any go-zero service YAML already read with readYaml (e.g. a client-only app whose
 * config embeds `service.ServiceConf`); `name` is the default Telemetry.Name.
 */
export function observabilityFrom(doc: Record<string, unknown>, file: string, name: string): ObservabilityConf {
  return observabilityConf(new Fields(file, doc, ''), name);
}
