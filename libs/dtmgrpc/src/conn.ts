import { observeClientCall, registerResolvers } from '@dtm-gozero/gozero';
import { Client, credentials, Metadata, type ServiceError, type StatusObject, status } from '@grpc/grpc-js';
import { dtmCallError } from './errors.ts';
import type { UnaryMethod } from './method.ts';

/** Deadline of a call to dtm or to a branch when the caller gives none. */
export const DEFAULT_CALL_TIMEOUT_MS = 10_000;

const clients = new Map<string, Client>();

/** A new cached client for a target: one per target, as dtm's Go client keeps one `grpc.Dial` per target. */
function openClient(target: string): Client {
  registerResolvers();
  const c = new Client(target, credentials.createInsecure());
  clients.set(target, c);
  return c;
}

/** Closes every cached channel (CLIs call it before exiting). */
export function closeConnections(): void {
  for (const c of clients.values()) c.close();
  clients.clear();
}

export interface CallOptions {
  metadata?: Record<string, string> | undefined;
  timeoutMs?: number | undefined;
  /** Set on the caller's active span, if any (a transaction's gid and type). */
  spanAttributes?: Record<string, string> | undefined;
}

/** The error grpc-js's client gives for a status: same message (`14 UNAVAILABLE: …`), code, details, metadata. */
function serviceError(s: StatusObject): ServiceError {
  return Object.assign(new Error(`${s.code} ${status[s.code]}: ${s.details}`), s);
}

/**
 * One unary call with a deadline; rejects with a grpc-js ServiceError (code, details, metadata).
 *
 * It drives the channel's call directly (`Channel.createCall`: start, read, one message, half-close) instead of
 * `Client.makeUnaryRequest`: the cached channels have no interceptors, so the client layer above it only added
 * per-call work — an EventEmitter, two intercepting-call wrappers and an `Error` captured for its stack on every
 * call (~7 % of a busy client's CPU in a profile at concurrency 64) — and nothing a caller here could use.
 */
export function invokeUnary<Req, Res>(
  target: string,
  method: UnaryMethod<Req, Res>,
  request: Req,
  opts: CallOptions = {},
): Promise<Res> {
  const md = new Metadata();
  const extra = opts.metadata;
  if (extra) for (const k of Object.keys(extra)) md.set(k, extra[k] as string);
  // go-zero's client tracing and metrics (a span + traceparent in md; a no-op when neither is on).
  const observed = observeClientCall(method.path, target, md, undefined, opts.spanAttributes);
  const deadline = Date.now() + (opts.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS);
  let payload: Buffer;
  try {
    payload = method.requestSerialize(request);
  } catch (err) {
    const details = `Request message serialization failure: ${err instanceof Error ? err.message : String(err)}`;
    return Promise.reject(serviceError({ code: status.INTERNAL, details, metadata: new Metadata() }));
  }
  // settled from the call's listener (no executor closure per call)
  const { promise, resolve, reject } = Promise.withResolvers<Res>();
  const channel = (clients.get(target) ?? openClient(target)).getChannel();
  const call = channel.createCall(method.path, deadline, undefined, null, undefined);
  let received = false;
  let response: Res | undefined;
  let failure: StatusObject | undefined;
  call.start(md, {
    onReceiveMetadata: () => {},
    onReceiveMessage: (bytes: Buffer) => {
      if (received) {
        failure = { code: status.UNIMPLEMENTED, details: 'Too many responses received', metadata: new Metadata() };
        call.cancelWithStatus(failure.code, failure.details);
        return;
      }
      received = true;
      try {
        response = method.responseDeserialize(bytes);
      } catch (err) {
        const details = `Response message parsing error: ${err instanceof Error ? err.message : String(err)}`;
        failure = { code: status.INTERNAL, details, metadata: new Metadata() };
        call.cancelWithStatus(failure.code, failure.details);
      }
    },
    onReceiveStatus: (s: StatusObject) => {
      observed(failure?.code ?? s.code, failure?.details ?? s.details);
      if (failure) reject(serviceError(failure));
      else if (s.code !== status.OK) reject(serviceError(s));
      else if (!received)
        reject(serviceError({ code: status.UNIMPLEMENTED, details: 'No message received', metadata: s.metadata }));
      else resolve(response as Res);
    },
  });
  call.startRead();
  call.sendMessageWithContext({}, payload);
  call.halfClose();
  return promise;
}

/**
 * Every call to dtm goes through here (Submit, Prepare, Abort, RegisterBranch, NewGid, PrepareWorkflow, the topic
 * calls): invokeUnary's deadline, metadata and tracing, and dtm's answer as this client's errors (dtmCallError;
 * `what` names the call, e.g. `Submit`). The raw gRPC error stays the error's `cause`.
 */
export async function dtmCall<Req, Res>(
  dtm: string,
  method: UnaryMethod<Req, Res>,
  request: Req,
  what: string,
  opts: CallOptions = {},
): Promise<Res> {
  try {
    return await invokeUnary(dtm, method, request, opts);
  } catch (err) {
    throw dtmCallError(dtm, what, err);
  }
}
