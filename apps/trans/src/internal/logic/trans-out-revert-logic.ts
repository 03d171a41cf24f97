import type { AdjustInfo, Response } from '@dtm-gozero/proto/trans';
import type { ServerUnaryCall } from '@grpc/grpc-js';
import type { ServiceContext } from '../svc/service-context.ts';
import { adjust } from './adjust.ts';

/** TransOutRevert: TCC cancel / SAGA compensation of TransOut. */
export class TransOutRevertLogic {
  readonly svcCtx: ServiceContext;
  readonly call: ServerUnaryCall<AdjustInfo, Response>;

  constructor(svcCtx: ServiceContext, call: ServerUnaryCall<AdjustInfo, Response>) {
    this.svcCtx = svcCtx;
    this.call = call;
  }

  async transOutRevert(in_: AdjustInfo): Promise<Response> {
    adjust(this.call.metadata, 'TransOutRevert', 'revert transfer out {amount} cents from {user}', in_);
    return {};
  }
}
