import type { AdjustInfo, Response } from '@dtm-gozero/proto/trans';
import type { ServerUnaryCall } from '@grpc/grpc-js';
import type { ServiceContext } from '../svc/service-context.ts';
import { bankBranch } from './transfer-branch.ts';

/** TransOutConfirm: TCC confirm of TransOut. */
export class TransOutConfirmLogic {
  readonly svcCtx: ServiceContext;
  readonly call: ServerUnaryCall<AdjustInfo, Response>;

  constructor(svcCtx: ServiceContext, call: ServerUnaryCall<AdjustInfo, Response>) {
    this.svcCtx = svcCtx;
    this.call = call;
  }

  async transOutConfirm(_in: AdjustInfo): Promise<Response> {
    return bankBranch(
      this.svcCtx,
      this.call,
      'TransOutConfirm',
      'confirm transfer out {amount} cents from {user}',
      'out',
    );
  }
}
