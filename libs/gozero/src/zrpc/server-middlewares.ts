// go-zero's unary server interceptors that this package does: Stat (the per-request log line), Breaker and
// Shedding, in go-zero's order (outermost first), all outside the Timeout one that server.ts installs.
import { type handleUnaryCall, type Server, type ServerUnaryCall, type sendUnaryData, status } from '@grpc/grpc-js';
import { getBreaker } from '../breaker/google-breaker.ts';
import type { RpcServerConf } from '../conf/config.ts';
import { DEFAULT_SERVER_MIDDLEWARES } from '../conf/service-conf.ts';
import { AdaptiveShedder } from '../load/adaptive-shedder.ts';
import { contentJson, logx, setLogTraceHook, setupLogx } from '../logx/logx.ts';
import type { RequestStat } from '../stat/stat.ts';
import { currentTraceIds } from '../trace/agent.ts';
import { acceptable, codeOf } from './codes.ts';
import { wrapUnaryHandlers } from './unary-wrap.ts';

type Handler = (call: ServerUnaryCall<unknown, unknown>, cb: sendUnaryData<unknown>) => void;
/** Wraps one method's handler (`fullMethod` is `/pkg.Service/Method`). */
export type UnaryWrapper = (next: Handler, fullMethod: string) => Handler;

// Modes in which go-zero turns load shedding off (ServiceConf.initMode's load.Disable).
const NO_SHEDDING_MODES = ['dev', 'test', 'rt', 'pre'];

/** go-zero's UnaryStatInterceptor: `peer - method - request` at info, or `[RPC] slowcall - …` past SlowThreshold. */
export function statWrapper(slowMs: number, ignoreContent: readonly string[], stat?: RequestStat): UnaryWrapper {
  const ignored = new Set(ignoreContent);
  return (next, method) => (call, cb) => {
    const start = performance.now();
    next(call, (err, value, trailer, flags) => {
      const durationMs = performance.now() - start;
      stat?.add(durationMs);
      const addr = call.getPeer();
      const fields = { caller: 'serverinterceptors/statinterceptor.go', durationMs };
      const slow = durationMs > slowMs;
      if (ignored.has(method)) {
        if (slow) logx.slow(`[RPC] slowcall - ${addr} - ${method}`, fields);
      } else {
        const content = contentJson(call.request);
        if (slow) logx.slow(`[RPC] slowcall - ${addr} - ${method} - ${content}`, fields);
        else logx.info(`${addr} - ${method} - ${content}`, fields);
      }
      cb(err, value, trailer, flags);
    });
  };
}

/** go-zero's UnaryBreakerInterceptor: one breaker per method; open → UNAVAILABLE "circuit breaker is open". */
export function breakerWrapper(): UnaryWrapper {
  return (next, method) => {
    const b = getBreaker(method);
    return (call, cb) => {
      if (!b.allow()) {
        cb({ code: status.UNAVAILABLE, details: 'circuit breaker is open' });
        return;
      }
      next(call, (err, value, trailer, flags) => {
        if (acceptable(codeOf(err))) b.markSuccess();
        else b.markFailure();
        cb(err, value, trailer, flags);
      });
    };
  };
}

/** go-zero's UnarySheddingInterceptor: a dropped call is RESOURCE_EXHAUSTED "service overloaded". */
export function sheddingWrapper(shedder: AdaptiveShedder, stat?: RequestStat): UnaryWrapper {
  return (next) => (call, cb) => {
    const promise = shedder.allow();
    if (!promise) {
      stat?.addDrop();
      cb({ code: status.RESOURCE_EXHAUSTED, details: 'service overloaded' });
      return;
    }
    next(call, (err, value, trailer, flags) => {
      // a call ended by the Timeout interceptor does not teach the shedder a latency
      if (codeOf(err) === status.DEADLINE_EXCEEDED) promise.fail();
      else promise.pass();
      cb(err, value, trailer, flags);
    });
  };
}

/** The wrappers a server conf asks for, outermost first, as go-zero's setupUnaryInterceptors orders them. */
export function serverWrappers(conf: RpcServerConf, stat?: RequestStat): UnaryWrapper[] {
  const mw = conf.Middlewares ?? DEFAULT_SERVER_MIDDLEWARES;
  const out: UnaryWrapper[] = [];
  if (mw.Stat) out.push(statWrapper(mw.StatConf.SlowThreshold, mw.StatConf.IgnoreContentMethods, stat));
  if (mw.Breaker) out.push(breakerWrapper());
  const threshold = conf.CpuThreshold ?? 900;
  if (threshold > 0 && !NO_SHEDDING_MODES.includes(conf.Mode)) {
    const shedder = new AdaptiveShedder({ cpuThreshold: threshold, onDrop: (line) => logx.error(line) });
    out.push(sheddingWrapper(shedder, stat));
  }
  return out;
}

/**
 * Sets logx up from `Log` (the stat lines of `stat` included) and wraps every unary handler registered later with the conf's middlewares. Call it
 * before the Timeout wrapping is installed: the last installed wraps first, so these end up outside it.
 */
export function installServerMiddlewares(server: Server, conf: RpcServerConf, stat?: RequestStat): void {
  setupLogx({ ...conf.Log, ServiceName: conf.Log?.ServiceName ?? conf.Name });
  setLogTraceHook(currentTraceIds); // the active span's ids, as logx takes them from the context
  const wrappers = serverWrappers(conf, stat);
  if (wrappers.length === 0) return;
  wrapUnaryHandlers(
    server,
    (h, path) =>
      wrappers.reduceRight<Handler>((next, w) => w(next, path), h as Handler) as handleUnaryCall<unknown, unknown>,
  );
}
