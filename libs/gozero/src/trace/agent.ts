import { appendFileSync } from 'node:fs';
import { Metadata } from '@grpc/grpc-js';
import { context, propagation, SpanStatusCode, trace } from '@opentelemetry/api';
import type { ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter, TracerProvider } from '@opentelemetry/sdk-trace';
import { BATCHERS, type TelemetryConf } from '../conf/observability.ts';
import { requireOptional } from '../internal/optional.ts';

// Only @opentelemetry/api is imported up front (it is a few no-op classes). The W3C propagators and the context
// manager load with the first trace (a Telemetry config, a call carrying a traceparent, inSpan), the SDK and each
// exporter with a Telemetry config that needs them (internal/optional.ts).
type Core = typeof import('@opentelemetry/core');
type ContextAsyncHooks = typeof import('@opentelemetry/context-async-hooks');
type OtlpGrpc = typeof import('@opentelemetry/exporter-trace-otlp-grpc');
type OtlpHttp = typeof import('@opentelemetry/exporter-trace-otlp-http');
type Zipkin = typeof import('@opentelemetry/exporter-zipkin');
type Resources = typeof import('@opentelemetry/resources');
type Sdk = typeof import('@opentelemetry/sdk-trace');

/** go-zero's `trace.TraceName`: the instrumentation scope of every span the library makes. */
export const TRACE_NAME = 'go-zero';

let installed = false;
let provider: TracerProvider | undefined;

/**
 * W3C TraceContext + Baggage as the global propagator and an AsyncLocalStorage context manager, as go-zero sets
 * its propagator at init: even with no Telemetry a service passes its caller's trace on to the services it calls.
 */
export function installPropagation(): void {
  if (installed) return;
  installed = true;
  const { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } = otelCore();
  const { AsyncLocalStorageContextManager } = requireOptional(
    '@opentelemetry/context-async-hooks',
  ) as ContextAsyncHooks;
  propagation.setGlobalPropagator(
    new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
  );
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
}

function otelCore(): Core {
  return requireOptional('@opentelemetry/core') as Core;
}

/** Rate limit of the "collector unreachable" warning after the first one. */
export const EXPORT_WARN_EVERY_MS = 60_000;

/**
 * Wraps an exporter so a failed export (collector down, refused) never stops the service: the first failure is one
 * warning on stderr naming the Batcher and Endpoint, later ones at most one a minute with the count dropped.
 */
export class WarningExporter implements SpanExporter {
  readonly #inner: SpanExporter;
  readonly #what: string;
  readonly #warn: (line: string) => void;
  #lastWarn = 0;
  #failed = 0;

  constructor(inner: SpanExporter, what: string, warn: (line: string) => void = (l) => console.error(l)) {
    this.#inner = inner;
    this.#what = what;
    this.#warn = warn;
  }

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.#inner.export(spans, (result) => {
      if (result.code !== otelCore().ExportResultCode.SUCCESS) {
        this.#failed += spans.length;
        const now = Date.now();
        if (this.#lastWarn === 0 || now - this.#lastWarn >= EXPORT_WARN_EVERY_MS) {
          const why = result.error?.message.split('\n')[0] ?? 'unknown error';
          this.#warn(
            `telemetry: cannot export spans to ${this.#what} (${why}); ${this.#failed} span(s) dropped so far, the service keeps serving — check Telemetry.Endpoint and that the collector runs`,
          );
          this.#lastWarn = now;
        }
      }
      done(result);
    });
  }

  shutdown(): Promise<void> {
    return this.#inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.#inner.forceFlush?.() ?? Promise.resolve();
  }
}

/** go-zero's `file` batcher (stdouttrace into a file): one JSON object per span, appended. */
export class FileSpanExporter implements SpanExporter {
  readonly #file: string;
  constructor(file: string) {
    this.#file = file;
  }

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    const { ExportResultCode, hrTimeToMicroseconds } = otelCore();
    try {
      const lines = spans.map((s) => {
        const ctx = s.spanContext();
        return JSON.stringify({
          Name: s.name,
          SpanContext: { TraceID: ctx.traceId, SpanID: ctx.spanId },
          Parent: { SpanID: s.parentSpanContext?.spanId ?? '' },
          SpanKind: s.kind,
          StartTime: hrTimeToMicroseconds(s.startTime),
          EndTime: hrTimeToMicroseconds(s.endTime),
          Attributes: s.attributes,
          Events: s.events.map((e) => ({ Name: e.name, Attributes: e.attributes })),
          Status: s.status,
          Resource: s.resource.attributes,
        });
      });
      appendFileSync(this.#file, `${lines.join('\n')}\n`);
      done({ code: ExportResultCode.SUCCESS });
    } catch (err) {
      done({ code: ExportResultCode.FAILED, error: err as Error });
    }
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

function withScheme(endpoint: string, scheme: string): string {
  return /^[a-z]+:\/\//i.test(endpoint) ? endpoint : `${scheme}://${endpoint}`;
}

/** The exporter of a Telemetry config, as go-zero's createExporter (insecure OTLP, headers, HTTP path). */
export function createExporter(c: TelemetryConf): SpanExporter {
  switch (c.Batcher) {
    case 'otlpgrpc': {
      const metadata = new Metadata();
      for (const [k, v] of Object.entries(c.OtlpHeaders)) metadata.set(k, v);
      const { OTLPTraceExporter } = requireOptional('@opentelemetry/exporter-trace-otlp-grpc') as OtlpGrpc;
      return new OTLPTraceExporter({ url: withScheme(c.Endpoint, 'http'), metadata });
    }
    case 'otlphttp': {
      const base = withScheme(c.Endpoint, c.OtlpHttpSecure ? 'https' : 'http').replace(/\/+$/, '');
      const { OTLPTraceExporter } = requireOptional('@opentelemetry/exporter-trace-otlp-http') as OtlpHttp;
      return new OTLPTraceExporter({ url: base + (c.OtlpHttpPath || '/v1/traces'), headers: c.OtlpHeaders });
    }
    case 'zipkin': {
      const { ZipkinExporter } = requireOptional('@opentelemetry/exporter-zipkin') as Zipkin;
      return new ZipkinExporter({ url: withScheme(c.Endpoint, 'http') });
    }
    case 'file':
      return new FileSpanExporter(c.Endpoint);
    default:
      throw new Error(`Telemetry.Batcher "${c.Batcher}" is not one of ${BATCHERS.join('|')}`);
  }
}

/**
 * go-zero's `trace.StartAgent`: a tracer provider named after the service, sampling new traces at `Sampler`
 * (a sampled caller is always followed), batching to the configured exporter when `Endpoint` is set. Once per
 * process (go-zero's sync.Once); `Disabled` starts nothing.
 */
export function startAgent(c: TelemetryConf): void {
  installPropagation();
  if (c.Disabled || provider) return;
  const { BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, TracerProvider } = requireOptional(
    '@opentelemetry/sdk-trace',
  ) as Sdk;
  const { resourceFromAttributes } = requireOptional('@opentelemetry/resources') as Resources;
  const spanProcessors = [];
  if (c.Endpoint) {
    const exporter = new WarningExporter(createExporter(c), `${c.Batcher} ${c.Endpoint}`);
    spanProcessors.push(new BatchSpanProcessor({ exporter, scheduledDelayMillis: 1000 }));
  }
  provider = new TracerProvider({
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(c.Sampler) }),
    resource: resourceFromAttributes({ 'service.name': c.Name }),
    spanProcessors,
  });
  trace.setGlobalTracerProvider(provider);
}

/** go-zero's `trace.StopAgent`: sends the spans still batched (bounded), then shuts the provider down. */
export async function stopAgent(timeoutMs = 3000): Promise<void> {
  const p = provider;
  if (!p) return;
  provider = undefined;
  trace.disable();
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    p.shutdown().catch(() => {}),
    new Promise<void>((r) => {
      timer = setTimeout(r, timeoutMs);
    }),
  ]);
  clearTimeout(timer);
}

/** Whether a tracer provider runs (startAgent was called, not Disabled, not stopped). */
export function agentRunning(): boolean {
  return provider !== undefined;
}

/** Sends the spans batched so far (tests and CLIs that exit right after a call). */
export async function flushAgent(): Promise<void> {
  await provider?.forceFlush();
}

/** The active trace and span ids (hex), for log lines (logx's `trace` and `span` fields); undefined outside a span. */
export function currentTraceIds(): { trace: string; span: string } | undefined {
  const sc = trace.getActiveSpan()?.spanContext();
  if (!sc || !trace.isSpanContextValid(sc)) return undefined;
  return { trace: sc.traceId, span: sc.spanId };
}

/**
 * The active trace context as W3C headers (`traceparent`, `tracestate`, `baggage`): what dtmgrpc puts in a
 * transaction's BranchHeaders so the branches dtm calls join the trace. Empty outside a trace.
 */
export function activeTraceHeaders(): Record<string, string> {
  const headers: Record<string, string> = {};
  const sc = trace.getActiveSpan()?.spanContext();
  if (sc && trace.isSpanContextValid(sc)) propagation.inject(context.active(), headers);
  return headers;
}

/**
 * Runs `fn` in a new span (active for everything it calls: its calls to dtm and the branches then join this trace),
 * ended when `fn` settles, ERROR when it throws. For code that starts work outside a gRPC handler (a CLI, a job).
 */
export async function inSpan<T>(name: string, fn: () => Promise<T>): Promise<T> {
  installPropagation();
  return trace.getTracer(TRACE_NAME).startActiveSpan(name, async (span) => {
    try {
      return await fn();
    } catch (err) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
      throw err;
    } finally {
      span.end();
    }
  });
}

/** Adds attributes to the active span, if any (dtmgrpc tags the caller's span with the transaction's gid). */
export function annotateActiveSpan(attributes: Record<string, string>): void {
  trace.getActiveSpan()?.setAttributes(attributes);
}
