import { registerResolvers } from '@dtm-gozero/gozero';
import { Client, credentials, Metadata } from '@grpc/grpc-js';
import type { UnaryMethod } from './method.ts';

/** Deadline of a call to dtm or to a branch when the caller gives none. */
export const DEFAULT_CALL_TIMEOUT_MS = 10_000;

const clients = new Map<string, Client>();

/** One cached channel per target, as dtm's Go client keeps one `grpc.Dial` per target. */
function clientFor(target: string): Client {
  let c = clients.get(target);
  if (!c) {
    registerResolvers();
    c = new Client(target, credentials.createInsecure());
    clients.set(target, c);
  }
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
}

/** One unary call with a deadline; rejects with the grpc-js ServiceError as is. */
export function invokeUnary<Req, Res>(
  target: string,
  method: UnaryMethod<Req, Res>,
  request: Req,
  opts: CallOptions = {},
): Promise<Res> {
  const md = new Metadata();
  for (const [k, v] of Object.entries(opts.metadata ?? {})) md.set(k, v);
  const deadline = Date.now() + (opts.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS);
  return new Promise((resolve, reject) => {
    clientFor(target).makeUnaryRequest(
      method.path,
      (v: Req) => method.requestSerialize(v),
      (b: Buffer) => method.responseDeserialize(b),
      request,
      md,
      { deadline },
      (err, res) => (err ? reject(err) : resolve(res as Res)),
    );
  });
}
