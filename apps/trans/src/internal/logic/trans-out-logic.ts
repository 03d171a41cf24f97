import type { AdjustInfo, Response } from '@dtm-gozero/proto/trans';
import type { ServerUnaryCall } from '@grpc/grpc-js';
import type { ServiceContext } from '../svc/service-context.ts';
import { bankBranch } from './transfer-branch.ts';

/** TransOut: takes money out of a user's account (with a database in the config; otherwise it only logs, as the Go example does). */
export class TransOutLogic {
  readonly svcCtx: ServiceContext;
  readonly call: ServerUnaryCall<AdjustInfo, Response>;

  constructor(svcCtx: ServiceContext, call: ServerUnaryCall<AdjustInfo, Response>) {
    this.svcCtx = svcCtx;
    this.call = call;
  }

  async transOut(_in: AdjustInfo): Promise<Response> {
    return bankBranch(this.svcCtx, this.call, 'TransOut', 'transfer out {amount} cents from {user}', 'out');
  }
}
