// Telemetry, Prometheus, DevServer and Middlewares.{Trace,Prometheus} as go-zero's ServiceConf fills them.

import { tempFile } from '@dtm-gozero/devkit';
import { describe, expect, test } from 'vitest';
import { clientConfFrom, loadServerConf, readYaml } from './config.ts';
import { observabilityFrom } from './observability.ts';

const server = (extra: string) =>
  loadServerConf(tempFile('obs.yaml', `Name: trans.rpc\nListenOn: 127.0.0.1:1\n${extra}`));

describe('go-zero names and defaults', () => {
  test('absent sections stay absent (go-zero leaves optional structs zero: no agent, no DevServer)', () => {
    const c = server('');
    expect(c.Telemetry).toBeUndefined();
    expect(c.Prometheus).toBeUndefined();
    expect(c.DevServer).toBeUndefined();
    // Middlewares is always filled, with go-zero's defaults (all on): service-conf.ts
    expect(c.Middlewares).toMatchObject({ Trace: true, Prometheus: true });
  });

  test('Telemetry: Name defaults to the service Name, Sampler 1, Batcher otlpgrpc (v1.10)', () => {
    expect(server('Telemetry:\n  Endpoint: 127.0.0.1:4317\n').Telemetry).toEqual({
      Name: 'trans.rpc',
      Endpoint: '127.0.0.1:4317',
      Sampler: 1,
      Batcher: 'otlpgrpc',
      OtlpHeaders: {},
      OtlpHttpPath: '',
      OtlpHttpSecure: false,
      Disabled: false,
    });
    const t = server(
      'telemetry:\n  name: x\n  endpoint: h:4318\n  sampler: 0.25\n  batcher: otlphttp\n  otlpheaders: {a: b}\n  otlphttppath: /p\n',
    ).Telemetry;
    expect(t).toMatchObject({
      Name: 'x',
      Sampler: 0.25,
      Batcher: 'otlphttp',
      OtlpHeaders: { a: 'b' },
      OtlpHttpPath: '/p',
    });
  });

  test('DevServer present: Enabled, port 6060, /metrics, /healthz, pprof and "OK" by default', () => {
    expect(server('DevServer:\n  Host: 127.0.0.1\n').DevServer).toEqual({
      Enabled: true,
      Host: '127.0.0.1',
      Port: 6060,
      MetricsPath: '/metrics',
      HealthPath: '/healthz',
      EnableMetrics: true,
      EnablePprof: true,
      HealthResponse: 'OK',
    });
  });

  test('Prometheus: port 9101, path /metrics; Middlewares toggles default on', () => {
    const c = server('Prometheus:\n  Host: 0.0.0.0\nMiddlewares:\n  Trace: false\n');
    expect(c.Prometheus).toEqual({ Host: '0.0.0.0', Port: 9101, Path: '/metrics' });
    expect(c.Middlewares).toMatchObject({ Trace: false, Prometheus: true });
  });

  test('a client YAML takes Middlewares; an app YAML takes the observability keys through observabilityFrom', () => {
    const file = tempFile(
      'app.yaml',
      'Target: direct:///a:1\nMiddlewares: {Prometheus: false}\nTelemetry: {Batcher: file, Endpoint: /tmp/x}\n',
    );
    const doc = readYaml(file);
    expect(clientConfFrom(doc, file).Middlewares).toMatchObject({ Trace: true, Prometheus: false });
    expect(observabilityFrom(doc, file, 'app').Telemetry).toMatchObject({ Name: 'app', Batcher: 'file' });
  });
});

describe('bad input names the key', () => {
  test.each([
    ['Telemetry:\n  Sampler: 1.5\n', /Telemetry\.Sampler must be a ratio between 0 and 1, got 1\.5/],
    ['Telemetry:\n  Sampler: -0.1\n', /Telemetry\.Sampler must be a ratio between 0 and 1/],
    ['Telemetry:\n  Sampler: all\n', /Telemetry\.Sampler must be a number, got "all"/],
    [
      'Telemetry:\n  Batcher: kafka\n',
      /Telemetry\.Batcher "kafka" is not an exporter go-zero offers; use one of otlpgrpc\|otlphttp\|zipkin\|file/,
    ],
    ['Telemetry:\n  Batcher: jaeger\n', /Telemetry\.Batcher is "jaeger".*use "Batcher: otlpgrpc"/],
    ['DevServer:\n  Port: 70000\n', /DevServer\.Port must be a TCP port \(0\.\.65535\), got 70000/],
    ['DevServer:\n  MetricsPath: metrics\n', /DevServer\.MetricsPath must be a URL path starting with "\/"/],
    ['Prometheus:\n  Port: -1\n', /Prometheus\.Port must be a non-negative integer/],
    ['Middlewares:\n  Trace: yes please\n', /Middlewares\.Trace must be true or false/],
  ])('%j', (yaml, message) => {
    expect(() => server(yaml)).toThrow(message);
  });
});
