import { parseServerMethod } from '@dtm-gozero/gozero';
import { DtmInputError } from './errors.ts';
import type { UnaryMethod } from './method.ts';

/** A branch as dtm stores it: the URL dtm's go-zero driver splits, and the request bytes. */
export interface BranchCall {
  url: string;
  server: string;
  method: string;
  payload: Buffer;
}

function checkUnary(m: UnaryMethod<unknown, unknown>): void {
  if (!m || typeof m.path !== 'string' || typeof m.requestSerialize !== 'function') {
    throw new DtmInputError('branch method must be a generated method descriptor, e.g. TransSvcService.transOut');
  }
  if (m.requestStream || m.responseStream) {
    throw new DtmInputError(`branch method ${m.path} is a streaming method; dtm can only call unary methods`);
  }
}

/** Builds a branch from a server target and a typed method descriptor plus its request message. */
export function typedBranch<Req>(server: string, method: UnaryMethod<Req, unknown>, request: Req): BranchCall {
  checkUnary(method as UnaryMethod<unknown, unknown>);
  if (typeof server !== 'string' || server === '') {
    throw new DtmInputError('branch server is empty; pass the target, e.g. etcd://127.0.0.1:2379/trans');
  }
  let payload: Buffer;
  try {
    payload = method.requestSerialize(request);
  } catch (err) {
    throw new DtmInputError(`payload for ${method.path} is not its request message: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return urlBranch(server.replace(/\/+$/, '') + method.path, payload);
}

/** Builds a branch from a Go-style URL (`busiServer + "/trans.TransSvc/TransOut"`) and already-encoded bytes. */
export function urlBranch(url: string, payload: Uint8Array): BranchCall {
  let sm: { server: string; method: string };
  try {
    sm = parseServerMethod(url);
  } catch (err) {
    throw new DtmInputError((err as Error).message, { cause: err });
  }
  if (!(payload instanceof Uint8Array)) throw new DtmInputError(`payload for ${url} must be bytes (Uint8Array)`);
  return { url, ...sm, payload: Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength) };
}
