import type { AdjustInfo, Response } from '@dtm-gozero/proto/trans';
import type { ServerUnaryCall } from '@grpc/grpc-js';
import type { ServiceContext } from '../svc/service-context.ts';
import { adjust } from './adjust.ts';

/** TransOut: takes money out of a user's account; here it only logs, as the Go example does. */
export class TransOutLogic {
  readonly svcCtx: ServiceContext;
  readonly call: ServerUnaryCall<AdjustInfo, Response>;

  constructor(svcCtx: ServiceContext, call: ServerUnaryCall<AdjustInfo, Response>) {
    this.svcCtx = svcCtx;
    this.call = call;
  }

  async transOut(in_: AdjustInfo): Promise<Response> {
    adjust(this.call.metadata, 'TransOut', 'transfer out {amount} cents from {user}', in_);
    return {};
  }
}
