import type { AdjustInfo, Response } from '@dtm-gozero/proto/trans';
import type { ServerUnaryCall } from '@grpc/grpc-js';
import type { ServiceContext } from '../svc/service-context.ts';
import { adjust } from './adjust.ts';

/** TransOutConfirm: TCC confirm of TransOut. */
export class TransOutConfirmLogic {
  readonly svcCtx: ServiceContext;
  readonly call: ServerUnaryCall<AdjustInfo, Response>;

  constructor(svcCtx: ServiceContext, call: ServerUnaryCall<AdjustInfo, Response>) {
    this.svcCtx = svcCtx;
    this.call = call;
  }

  async transOutConfirm(in_: AdjustInfo): Promise<Response> {
    adjust(this.call.metadata, 'TransOutConfirm', 'confirm transfer out {amount} cents from {user}', in_);
    return {};
  }
}
