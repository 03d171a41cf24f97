// go-zero's unary client interceptors that this package does: Duration (a failed or slow call is logged) and
// Breaker, in go-zero's order (outermost first); client.ts adds them before its Timeout interceptor.
import { posix } from 'node:path';
import { InterceptingCall, type Interceptor, ListenerBuilder, Metadata, RequesterBuilder, status } from '@grpc/grpc-js';
import { getBreaker } from '../breaker/google-breaker.ts';
import type { ClientMiddlewaresConf } from '../conf/service-conf.ts';
import { DEFAULT_CLIENT_MIDDLEWARES } from '../conf/service-conf.ts';
import { contentJson, logx } from '../logx/logx.ts';
import { acceptable } from './codes.ts';

const SLOW_MS = 500; // go-zero's client slowThreshold

/** go-zero's breaker/duration name: path.Join(target, method). */
function serverName(target: string, method: string): string {
  return posix.join(target, method);
}

/** A call that never reaches the network and ends at once with `code`. */
function refusedCall(code: status, details: string): InterceptingCall {
  const nothing = (): void => {};
  const bottom = {
    cancelWithStatus: nothing,
    getPeer: () => '',
    start: nothing,
    sendMessageWithContext: nothing,
    sendMessage: nothing,
    startRead: nothing,
    halfClose: nothing,
    getAuthContext: () => null,
  } as unknown as ConstructorParameters<typeof InterceptingCall>[0];
  return new InterceptingCall(
    bottom,
    new RequesterBuilder()
      .withStart((_metadata, listener) => {
        process.nextTick(() => listener.onReceiveStatus({ code, details, metadata: new Metadata() }));
      })
      .build(),
  );
}

/**
 * go-zero's client BreakerInterceptor: one Google SRE breaker per target + method. While it drops, the call
 * fails at once with UNAVAILABLE "circuit breaker is open" (go-zero returns its bare ErrServiceUnavailable).
 */
export function breakerInterceptor(target: string): Interceptor {
  return (options, nextCall) => {
    const b = getBreaker(serverName(target, options.method_definition.path));
    if (!b.allow()) return refusedCall(status.UNAVAILABLE, 'circuit breaker is open');
    return new InterceptingCall(
      nextCall(options),
      new RequesterBuilder()
        .withStart((metadata, _listener, next) => {
          next(
            metadata,
            new ListenerBuilder()
              .withOnReceiveStatus((st, nextStatus) => {
                if (acceptable(st.code === status.OK ? undefined : st.code)) b.markSuccess();
                else b.markFailure();
                nextStatus(st);
              })
              .build(),
          );
        })
        .build(),
    );
  };
}

/** go-zero's client DurationInterceptor: `fail - …` at error level, `[RPC] ok - slowcall - …` past 500 ms. */
export function durationInterceptor(target: string): Interceptor {
  return (options, nextCall) => {
    const name = serverName(target, options.method_definition.path);
    const start = performance.now();
    let req: unknown;
    let reply: unknown;
    return new InterceptingCall(
      nextCall(options),
      new RequesterBuilder()
        .withSendMessage((message, next) => {
          req = message;
          next(message);
        })
        .withStart((metadata, _listener, next) => {
          next(
            metadata,
            new ListenerBuilder()
              .withOnReceiveMessage((message, nextMessage) => {
                reply = message;
                nextMessage(message);
              })
              .withOnReceiveStatus((st, nextStatus) => {
                const durationMs = performance.now() - start;
                const fields = { caller: 'clientinterceptors/durationinterceptor.go', durationMs };
                if (st.code !== status.OK) logx.error(`fail - ${name} - ${contentJson(req)} - ${st.details}`, fields);
                else if (durationMs > SLOW_MS)
                  logx.slow(`[RPC] ok - slowcall - ${name} - ${contentJson(req)} - ${contentJson(reply)}`, fields);
                nextStatus(st);
              })
              .build(),
          );
        })
        .build(),
    );
  };
}

/** The interceptors a client conf asks for besides Timeout, outermost first (go-zero: Duration, then Breaker). */
export function clientInterceptors(target: string, mw: ClientMiddlewaresConf | undefined): Interceptor[] {
  const m = mw ?? DEFAULT_CLIENT_MIDDLEWARES;
  const out: Interceptor[] = [];
  if (m.Duration) out.push(durationInterceptor(target));
  if (m.Breaker) out.push(breakerInterceptor(target));
  return out;
}
