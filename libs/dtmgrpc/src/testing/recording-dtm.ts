// For unit tests only: a stand-in for dtm's gRPC service that records what a client sends (and answers OK), to
// check request contents and that bad input sends nothing. Integration tests use the real dtm.
import {
  Server,
  ServerCredentials,
  type ServerUnaryCall,
  type sendUnaryData,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { type DtmBranchRequest, type DtmRequest, DtmService } from '../gen/dtmgimp.ts';

export interface RecordedCall {
  rpc: string;
  request: DtmRequest | DtmBranchRequest | object;
}

export interface RecordingDtm {
  /** `127.0.0.1:<port>`, to pass as the dtm address. */
  readonly target: string;
  readonly calls: RecordedCall[];
  stop(): Promise<void>;
}

export async function startRecordingDtm(): Promise<RecordingDtm> {
  const calls: RecordedCall[] = [];
  const server = new Server();
  const impl: UntypedServiceImplementation = {};
  for (const rpc of Object.keys(DtmService)) {
    impl[rpc] = (call: ServerUnaryCall<object, object>, cb: sendUnaryData<object>) => {
      calls.push({ rpc, request: call.request });
      cb(null, rpc === 'newGid' ? { Gid: `gid-${calls.length}` } : {});
    };
  }
  server.addService(DtmService, impl);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    target: `127.0.0.1:${port}`,
    calls,
    stop: () =>
      new Promise<void>((resolve) => {
        server.forceShutdown();
        resolve();
      }),
  };
}
