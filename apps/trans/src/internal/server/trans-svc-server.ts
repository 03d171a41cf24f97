import { toGrpcStatus } from '@dtm-gozero/dtmgrpc';
import type { TransSvcServer } from '@dtm-gozero/proto/trans';
import type { ServerUnaryCall, sendUnaryData } from '@grpc/grpc-js';
import { TransInLogic } from '../logic/trans-in-logic.ts';
import { TransOutLogic } from '../logic/trans-out-logic.ts';
import type { ServiceContext } from '../svc/service-context.ts';

/** Adapts an async logic method to a grpc-js handler; thrown errors become the status dtm expects. */
function unary<Req, Res>(fn: (req: Req) => Promise<Res>) {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>): void => {
    fn(call.request).then(
      (res) => callback(null, res),
      (err: unknown) => callback(toGrpcStatus(err)),
    );
  };
}

/** Maps each RPC to a fresh logic object per call, as goctl's generated server does. */
export function newTransSvcServer(svcCtx: ServiceContext): TransSvcServer {
  return {
    transIn: unary((req) => new TransInLogic(svcCtx).transIn(req)),
    transOut: unary((req) => new TransOutLogic(svcCtx).transOut(req)),
  };
}
