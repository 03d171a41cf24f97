import { parseServerMethod } from '@dtm-gozero/gozero';
import { invokeUnary } from './conn.ts';
import { DtmInputError, fromGrpcError } from './errors.ts';
import { rawMethod, type UnaryMethod } from './method.ts';
import type { TransBase } from './trans-base.ts';

/**
 * A branch: the target and method path the client calls it with, the request bytes (serialized once), and their
 * join `server + method`, which is only what dtm is told (its go-zero driver splits it back).
 */
export interface BranchCall {
  server: string;
  method: string;
  payload: Buffer;
  url: string;
}

function checkUnary(m: UnaryMethod<unknown, unknown>): void {
  if (!m || typeof m.path !== 'string' || typeof m.requestSerialize !== 'function') {
    throw new DtmInputError('branch method must be a generated method descriptor, e.g. TransSvcService.transOut');
  }
  if (m.requestStream || m.responseStream) {
    throw new DtmInputError(`branch method ${m.path} is a streaming method; dtm can only call unary methods`);
  }
}

// A client adds the same few branches to transaction after transaction: the check of each URL (regular
// expressions, ~3 % of a busy client's CPU) is kept, with its split. Only valid URLs are kept, at most this many.
const SPLIT_CACHE_MAX = 1024;
const splitCache = new Map<string, { server: string; method: string }>();

/** How dtm's go-zero driver splits a branch URL (gozero's parseServerMethod), cached; bad URLs are DtmInputError. */
export function splitUrl(url: string): { server: string; method: string } {
  let sm = splitCache.get(url);
  if (sm) return sm;
  try {
    sm = parseServerMethod(url);
  } catch (err) {
    throw new DtmInputError((err as Error).message, { cause: err });
  }
  if (splitCache.size >= SPLIT_CACHE_MAX) splitCache.clear();
  splitCache.set(url, sm);
  return sm;
}

/**
 * The URL dtm is told for a typed method of a server target, `server + method.path`, checked the way dtm's driver
 * will split it (a server whose key has a `/` in it would come back split elsewhere: refused). No serialization.
 */
export function branchUrl<Req>(server: string, method: UnaryMethod<Req, unknown>): string {
  checkUnary(method as UnaryMethod<unknown, unknown>);
  if (typeof server !== 'string' || server === '') {
    throw new DtmInputError('branch server is empty; pass the target, e.g. etcd://127.0.0.1:2379/trans');
  }
  const url = server.replace(/\/+$/, '') + method.path;
  splitUrl(url);
  return url;
}

/** Builds a branch from a server target and a typed method descriptor plus its request message. */
export function typedBranch<Req>(server: string, method: UnaryMethod<Req, unknown>, request: Req): BranchCall {
  const url = branchUrl(server, method);
  let payload: Buffer;
  try {
    payload = method.requestSerialize(request);
  } catch (err) {
    throw new DtmInputError(`payload for ${method.path} is not its request message: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return { server: url.slice(0, url.length - method.path.length), method: method.path, payload, url };
}

/** Builds a branch from a Go-style URL (`busiServer + "/trans.TransSvc/TransOut"`) and already-encoded bytes. */
export function urlBranch(url: string, payload: Uint8Array): BranchCall {
  const sm = splitUrl(url);
  if (!(payload instanceof Uint8Array)) throw new DtmInputError(`payload for ${url} must be bytes (Uint8Array)`);
  return {
    server: sm.server,
    method: sm.method,
    payload: Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength),
    url,
  };
}

/**
 * The gRPC metadata of a branch call the client makes itself (a TCC try, an XA phase 1, a msg's QueryPrepared
 * back-check): dtm's keys, the transaction's BranchHeaders, and for XA the phase-2 URL (the branch's own URL).
 * A branch header never replaces a dtm key, whatever its case: dtm's Go client appends the headers after its keys
 * and a server reads the first value.
 */
export function branchMetadata(t: TransBase, branchId: string, op: string, url: string): Record<string, string> {
  const dtmKeys: Record<string, string> = {
    'dtm-gid': t.gid,
    'dtm-trans_type': t.transType,
    'dtm-branch_id': branchId,
    'dtm-op': op,
    'dtm-dtm': t.dtm,
  };
  if (t.transType === 'xa') dtmKeys['dtm-phase2_url'] = url;
  const md: Record<string, string> = {};
  for (const [k, v] of Object.entries(t.options.branchHeaders ?? {})) {
    if (!Object.hasOwn(dtmKeys, k.toLowerCase())) md[k] = v;
  }
  return { ...md, ...dtmKeys };
}

/**
 * Calls a branch the way dtm's Go client's `InvokeBranch` does: the payload bytes dtm stored (so later ops see
 * exactly what this one saw), the branch metadata, the transaction's call deadline. Errors come back as the
 * client's errors (a FAILURE answer as DtmFailure), naming the transaction, branch and URL.
 */
export async function invokeBranch<Res>(
  t: TransBase,
  b: BranchCall,
  branchId: string,
  op: string,
  responseDeserialize: (bytes: Buffer) => Res,
): Promise<Res> {
  try {
    return await invokeUnary(b.server, { ...rawMethod(b.method), responseDeserialize }, b.payload, {
      metadata: branchMetadata(t, branchId, op, b.url),
      timeoutMs: t.options.callTimeoutMs,
    });
  } catch (err) {
    throw fromGrpcError(err, `${t.transType} ${t.gid} branch ${branchId} ${op} ${b.url}`);
  }
}
