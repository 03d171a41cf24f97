import type { AdjustInfo, Response } from '@dtm-gozero/proto/trans';
import type { ServerUnaryCall } from '@grpc/grpc-js';
import type { ServiceContext } from '../svc/service-context.ts';
import { bankBranch } from './transfer-branch.ts';

/** TransOutRevert: TCC cancel / SAGA compensation of TransOut. */
export class TransOutRevertLogic {
  readonly svcCtx: ServiceContext;
  readonly call: ServerUnaryCall<AdjustInfo, Response>;

  constructor(svcCtx: ServiceContext, call: ServerUnaryCall<AdjustInfo, Response>) {
    this.svcCtx = svcCtx;
    this.call = call;
  }

  async transOutRevert(_in: AdjustInfo): Promise<Response> {
    return bankBranch(
      this.svcCtx,
      this.call,
      'TransOutRevert',
      'revert transfer out {amount} cents from {user}',
      'out',
    );
  }
}
