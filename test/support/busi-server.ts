// An in-process TransSvc for the client's integration tests: it records every call dtm (or the client) makes,
// with its dtm metadata, and lets a test decide how each method answers.

import { toGrpcStatus } from '@dtm-gozero/dtmgrpc';
import { type AdjustInfo, type Response, TransSvcService } from '@dtm-gozero/proto/trans';
import {
  Server,
  ServerCredentials,
  type ServerUnaryCall,
  type sendUnaryData,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';

export type Method = keyof typeof TransSvcService;

export interface Call {
  method: Method;
  gid: string;
  op: string;
  branchId: string;
  dtm: string;
  amount: number;
  user: number;
  headers: Record<string, string>;
}

export type Behaviour = (req: AdjustInfo, call: ServerUnaryCall<AdjustInfo, Response>) => Promise<void> | void;

export interface BusiServer {
  /** `127.0.0.1:<port>`: dtm's go-zero driver dials it directly. */
  target: string;
  calls: Call[];
  /** Calls of one gid, as `Method:op` strings in arrival order. */
  log(gid: string): string[];
  on(method: Method, behaviour: Behaviour): void;
  stop(): Promise<void>;
}

export async function startBusiServer(): Promise<BusiServer> {
  const calls: Call[] = [];
  const behaviours = new Map<Method, Behaviour>();
  const server = new Server();
  const impl: UntypedServiceImplementation = {};
  for (const method of Object.keys(TransSvcService) as Method[]) {
    impl[method] = (call: ServerUnaryCall<AdjustInfo, Response>, cb: sendUnaryData<Response>) => {
      const md = call.metadata.getMap();
      const s = (k: string): string => (md[k] === undefined ? '' : String(md[k]));
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(md)) headers[k] = String(v);
      calls.push({
        method,
        gid: s('dtm-gid'),
        op: s('dtm-op'),
        branchId: s('dtm-branch_id'),
        dtm: s('dtm-dtm'),
        amount: call.request.Amount,
        user: call.request.UserID,
        headers,
      });
      Promise.resolve()
        .then(() => behaviours.get(method)?.(call.request, call))
        .then(
          () => cb(null, {}),
          (err: unknown) => cb(toGrpcStatus(err)),
        );
    };
  }
  server.addService(TransSvcService, impl);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    target: `127.0.0.1:${port}`,
    calls,
    log: (gid) => calls.filter((c) => c.gid === gid).map((c) => `${c.method}:${c.op}`),
    on: (method, behaviour) => behaviours.set(method, behaviour),
    stop: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve());
        setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 1000).unref();
      }),
  };
}
