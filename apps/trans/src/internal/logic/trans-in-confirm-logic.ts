import type { AdjustInfo, Response } from '@dtm-gozero/proto/trans';
import type { ServerUnaryCall } from '@grpc/grpc-js';
import type { ServiceContext } from '../svc/service-context.ts';
import { bankBranch } from './transfer-branch.ts';

/** TransInConfirm: TCC confirm of TransIn. */
export class TransInConfirmLogic {
  readonly svcCtx: ServiceContext;
  readonly call: ServerUnaryCall<AdjustInfo, Response>;

  constructor(svcCtx: ServiceContext, call: ServerUnaryCall<AdjustInfo, Response>) {
    this.svcCtx = svcCtx;
    this.call = call;
  }

  async transInConfirm(_in: AdjustInfo): Promise<Response> {
    return bankBranch(this.svcCtx, this.call, 'TransInConfirm', 'confirm transfer in {amount} cents to {user}', 'in');
  }
}
