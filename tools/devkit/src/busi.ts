// An in-process business gRPC service for the integration tests (msg, tcc, saga, xa) and `npm run bench`: one service (`busi.Busi` unless told
// otherwise) whose methods take trans's AdjustInfo. It records every call (dtm's or the client's) with its metadata,
// and a test decides how a method answers, per method and optionally per gid, so tests sharing the server do not
// disturb each other.

import { type BranchInfo, branchInfoFromGrpc, toGrpcStatus, type UnaryMethod } from '@dtm-gozero/dtmgrpc';
import { AdjustInfo, Response, TransSvcService } from '@dtm-gozero/proto/trans';
import {
  Server,
  ServerCredentials,
  type ServerUnaryCall,
  type sendUnaryData,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { stopGrpcServer } from './grpc.ts';

export const BUSI_SERVICE = 'busi.Busi';

/** A unary method of `busi.Busi` taking AdjustInfo, in the shape ts-proto emits (usable by the server and clients). */
export interface BusiMethod extends UnaryMethod<AdjustInfo, Response> {
  requestDeserialize(b: Buffer): AdjustInfo;
  responseSerialize(v: Response): Buffer;
}

export function busiMethod(name: string, service = BUSI_SERVICE): BusiMethod {
  return {
    path: `/${service}/${name}`,
    requestStream: false,
    responseStream: false,
    requestSerialize: (v) => Buffer.from(AdjustInfo.encode(v).finish()),
    requestDeserialize: (b) => AdjustInfo.decode(b),
    responseSerialize: (v) => Buffer.from(Response.encode(v).finish()),
    responseDeserialize: (b) => Response.decode(b),
  };
}

/** One call the busi server answered: dtm's metadata (as a branch handler reads it) and the request. */
export interface BusiCall extends BranchInfo {
  method: string;
  /** Bytes received (dtm's phase-2 XA calls send none). */
  payloadBytes: number;
  amount: number;
  user: number;
  /** Every metadata key of the call (the dtm-* ones included), first value of each. */
  headers: Record<string, string>;
}

export type Behaviour = (req: AdjustInfo, call: ServerUnaryCall<AdjustInfo, Response>) => Promise<unknown> | unknown;

export interface BusiServer {
  /** `127.0.0.1:<port>`: dtm's go-zero driver dials it directly. */
  readonly target: string;
  readonly calls: readonly BusiCall[];
  /** Descriptor of method `name` of this service (only the names given to startBusiServer are served). */
  method(name: string): BusiMethod;
  /** Go-style URL of a method: `127.0.0.1:<port>/<service>/<name>`. */
  url(name: string): string;
  /** Calls of one gid, as `Method:op` (or `Method:op:branchId` with `withBranch`), in arrival order. */
  log(gid: string, withBranch?: boolean): string[];
  /** How `name` answers: for every gid, or only for `gid` (takes precedence). Throw DtmFailure to fail. */
  on(name: string, behaviour: Behaviour, gid?: string): void;
  stop(): Promise<void>;
}

/**
 * Starts the service on 127.0.0.1 (port 0 → a free one) serving the method names given, as `service` (e.g.
 * `trans.TransSvc` to be reached through that package's generated descriptors).
 */
export async function startBusiServer(names: readonly string[], service = BUSI_SERVICE): Promise<BusiServer> {
  const calls: BusiCall[] = [];
  const behaviours = new Map<string, Behaviour>();
  const server = new Server();
  const definition: Record<string, BusiMethod> = {};
  const impl: UntypedServiceImplementation = {};
  for (const name of names) {
    definition[name] = busiMethod(name, service);
    impl[name] = (call: ServerUnaryCall<AdjustInfo, Response>, cb: sendUnaryData<Response>) => {
      const md = call.metadata;
      const info = branchInfoFromGrpc(call);
      const gid = info.gid;
      const headers: Record<string, string> = {};
      for (const k of Object.keys(md.getMap())) headers[k] = String(md.get(k)[0] ?? '');
      calls.push({
        method: name,
        ...info,
        payloadBytes: AdjustInfo.encode(call.request).finish().length,
        amount: Number(call.request.Amount),
        user: Number(call.request.UserID),
        headers,
      });
      const b = behaviours.get(`${gid}\u0000${name}`) ?? behaviours.get(name);
      Promise.resolve()
        .then(() => b?.(call.request, call))
        .then(
          () => cb(null, {}),
          (err: unknown) => cb(toGrpcStatus(err)),
        );
    };
  }
  server.addService(definition, impl);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  const target = `127.0.0.1:${port}`;
  return {
    target,
    calls,
    method: (name) => busiMethod(name, service),
    url: (name) => `${target}/${service}/${name}`,
    log: (gid, withBranch = false) =>
      calls.filter((c) => c.gid === gid).map((c) => `${c.method}:${c.op}${withBranch ? `:${c.branchId}` : ''}`),
    on: (name, behaviour, gid) => behaviours.set(gid === undefined ? name : `${gid}\u0000${name}`, behaviour),
    stop: () => stopGrpcServer(server),
  };
}

/** The example's `trans.TransSvc`, every method of proto/trans.proto, recorded like busi.Busi (names as in the .proto). */
export function startTransSvc(): Promise<BusiServer> {
  const names = Object.values(TransSvcService).map((m) => m.path.slice(m.path.lastIndexOf('/') + 1));
  return startBusiServer(names, 'trans.TransSvc');
}
