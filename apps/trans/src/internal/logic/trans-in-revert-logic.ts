import type { AdjustInfo, Response } from '@dtm-gozero/proto/trans';
import type { ServerUnaryCall } from '@grpc/grpc-js';
import type { ServiceContext } from '../svc/service-context.ts';
import { bankBranch } from './transfer-branch.ts';

/** TransInRevert: TCC cancel / SAGA compensation of TransIn (also called when TransIn itself failed). */
export class TransInRevertLogic {
  readonly svcCtx: ServiceContext;
  readonly call: ServerUnaryCall<AdjustInfo, Response>;

  constructor(svcCtx: ServiceContext, call: ServerUnaryCall<AdjustInfo, Response>) {
    this.svcCtx = svcCtx;
    this.call = call;
  }

  async transInRevert(_in: AdjustInfo): Promise<Response> {
    return bankBranch(this.svcCtx, this.call, 'TransInRevert', 'revert transfer in {amount} cents to {user}', 'in');
  }
}
