import {
  type handleUnaryCall,
  InterceptingCall,
  type Interceptor,
  type Metadata,
  type Server,
  type ServerUnaryCall,
  type ServiceError,
  type sendUnaryData,
  status,
} from '@grpc/grpc-js';
import {
  type Attributes,
  type Context,
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  type TextMapSetter,
  trace,
} from '@opentelemetry/api';
import { metricsEnabled, observeRpc } from '../metrics/rpc.ts';
import { wrapUnaryHandlers } from '../zrpc/unary-wrap.ts';
import { agentRunning, installPropagation, TRACE_NAME } from './agent.ts';

/** Which of go-zero's `Middlewares` run (unset = on, go-zero's default). */
export interface ObserveToggles {
  Trace?: boolean | undefined;
  Prometheus?: boolean | undefined;
}

const setter: TextMapSetter<Metadata> = { set: (md, k, v) => md.set(k, v) };
const getter: TextMapGetter<Metadata> = {
  keys: (md) => Object.keys(md.getMap()),
  get: (md, k) => {
    const v = md.get(k)[0];
    return typeof v === 'string' ? v : undefined;
  },
};

/** go-zero's `ztrace.SpanInfo`: the span name (`pkg.Svc/Rpc`) and its rpc.* / net.peer.* attributes. */
export function spanInfo(fullMethod: string, peer: string): { name: string; attributes: Attributes } {
  const name = fullMethod.replace(/^\/+/, '');
  const attributes: Attributes = { 'rpc.system': 'grpc' };
  const slash = name.indexOf('/');
  if (slash >= 0) {
    if (slash > 0) attributes['rpc.service'] = name.slice(0, slash);
    if (slash < name.length - 1) attributes['rpc.method'] = name.slice(slash + 1);
  }
  // A peer is `host:port` (grpc-js may prefix `ipv4:`); a target such as `etcd://…` has no peer attributes.
  const m = /^(?:ipv[46]:)?\[?([^\]]*?)\]?:(\d+)$/.exec(peer);
  if (m) {
    attributes['net.peer.ip'] = m[1] || '127.0.0.1';
    attributes['net.peer.port'] = m[2];
  }
  return { name, attributes };
}

function message(type: 'SENT' | 'RECEIVED'): Attributes {
  return { 'message.type': type, 'message.id': 1 };
}

/** Ends a span as go-zero's tracing interceptors do: status code attribute, ERROR status with the message. */
function endSpan(span: ReturnType<ReturnType<typeof trace.getTracer>['startSpan']>, code: number, details: string) {
  span.setAttribute('rpc.grpc.status_code', code);
  if (code !== status.OK) span.setStatus({ code: SpanStatusCode.ERROR, message: details });
  span.end();
}

/**
 * Observes one outgoing unary call (go-zero's client tracing + Prometheus interceptors): starts a CLIENT span
 * under the active context, writes its W3C `traceparent`/`tracestate`/`baggage` into `md`, and returns what to
 * call with the final status. `callerAttributes` go on the caller's active span, if any (dtmgrpc tags it with the
 * transaction's gid, in the same look-up). Cheap when neither a trace nor metrics are on.
 */
export function observeClientCall(
  method: string,
  target: string,
  md: Metadata,
  toggles: ObserveToggles = {},
  callerAttributes?: Attributes,
): (code: number, details: string) => void {
  const caller = trace.getSpan(context.active());
  if (callerAttributes) caller?.setAttributes(callerAttributes);
  // A span when the caller is in a trace (passed on even with no Telemetry, as go-zero) or a provider runs.
  const active = caller?.spanContext();
  const traced =
    toggles.Trace !== false && ((active !== undefined && trace.isSpanContextValid(active)) || agentRunning());
  const metered = toggles.Prometheus !== false && metricsEnabled();
  if (!traced && !metered) return () => {};
  const start = performance.now();
  let span: ReturnType<ReturnType<typeof trace.getTracer>['startSpan']> | undefined;
  if (traced) {
    const { name, attributes } = spanInfo(method, target);
    const parent = context.active();
    span = trace.getTracer(TRACE_NAME).startSpan(name, { kind: SpanKind.CLIENT, attributes }, parent);
    propagation.inject(trace.setSpan(parent, span), md, setter);
    span.addEvent('message', message('SENT'));
  }
  return (code, details) => {
    if (span) {
      span.addEvent('message', message('RECEIVED'));
      endSpan(span, code, details);
    }
    if (metered) observeRpc('client', method, performance.now() - start, code);
  };
}

/**
 * go-zero's client `UnaryTracingInterceptor` + `PrometheusInterceptor` as one grpc-js interceptor. A call is traced
 * only inside a trace, and whatever starts one (startAgent, a traced incoming call, inSpan) installs propagation.
 */
export function clientObserveInterceptor(toggles: ObserveToggles = {}): Interceptor {
  return (options, next) => {
    const method = options.method_definition.path;
    const target = options.host ?? '';
    const ctx: Context = context.active();
    return new InterceptingCall(next(options), {
      start: (md, _listener, nextStart) => {
        const finish = context.with(ctx, () => observeClientCall(method, target, md, toggles));
        nextStart(md, {
          onReceiveStatus: (s, nextStatus) => {
            finish(s.code, s.details);
            nextStatus(s);
          },
        });
      },
    });
  };
}

/** go-zero's server `UnaryTracingInterceptor` + `UnaryPrometheusInterceptor` around one unary handler. */
export function observeServerHandler(
  path: string,
  h: handleUnaryCall<unknown, unknown>,
  toggles: ObserveToggles = {},
): handleUnaryCall<unknown, unknown> {
  return (call: ServerUnaryCall<unknown, unknown>, cb: sendUnaryData<unknown>) => {
    // No provider and no caller's trace: nothing to record or pass on (keeps the untraced path as it was).
    const traced = toggles.Trace !== false && (agentRunning() || call.metadata.get('traceparent').length > 0);
    const metered = toggles.Prometheus !== false && metricsEnabled();
    if (!traced && !metered) return h(call, cb);
    const start = performance.now();
    let ctx = ROOT_CONTEXT;
    let span: ReturnType<ReturnType<typeof trace.getTracer>['startSpan']> | undefined;
    if (traced) {
      installPropagation(); // the first traceparent loads the W3C propagators (agent.ts), as go-zero always has them
      const parent = propagation.extract(ROOT_CONTEXT, call.metadata, getter);
      const { name, attributes } = spanInfo(path, call.getPeer());
      span = trace.getTracer(TRACE_NAME).startSpan(name, { kind: SpanKind.SERVER, attributes }, parent);
      span.addEvent('message', message('RECEIVED'));
      ctx = trace.setSpan(parent, span);
    }
    context.with(ctx, () =>
      h(call, (err, value, trailer, flags) => {
        const e = err as Partial<ServiceError> | null;
        const code = e ? (e.code ?? status.UNKNOWN) : status.OK;
        const details = e ? (e.details ?? e.message ?? '') : '';
        if (span) {
          span.addEvent('message', message('SENT'));
          endSpan(span, code, details);
        }
        if (metered) observeRpc('server', path, performance.now() - start, code);
        cb(err, value, trailer, flags);
      }),
    );
  };
}

/** Wraps every unary handler added to `server` from now on with observeServerHandler. */
export function observeServer(server: Server, toggles: ObserveToggles = {}): void {
  wrapUnaryHandlers(server, (h, path) => observeServerHandler(path, h, toggles));
}
