import type { AdjustInfo, Response } from '@dtm-gozero/proto/trans';
import type { ServerUnaryCall } from '@grpc/grpc-js';
import type { ServiceContext } from '../svc/service-context.ts';
import { bankBranch } from './transfer-branch.ts';

/** TransIn: puts money into a user's account (with a database in the config; otherwise it only logs, as the Go example does). */
export class TransInLogic {
  readonly svcCtx: ServiceContext;
  readonly call: ServerUnaryCall<AdjustInfo, Response>;

  constructor(svcCtx: ServiceContext, call: ServerUnaryCall<AdjustInfo, Response>) {
    this.svcCtx = svcCtx;
    this.call = call;
  }

  async transIn(_in: AdjustInfo): Promise<Response> {
    return bankBranch(this.svcCtx, this.call, 'TransIn', 'transfer in {amount} cents to {user}', 'in');
  }
}
