import type { AdjustInfo, Response } from '@dtm-gozero/proto/trans';
import type { ServerUnaryCall } from '@grpc/grpc-js';
import type { ServiceContext } from '../svc/service-context.ts';
import { xaBranch } from './transfer-branch.ts';

/** TransInXa: an XA branch; phase 1 credits user_account in a local XA transaction, phase 2 (dtm) commits or rolls it back. */
export class TransInXaLogic {
  readonly svcCtx: ServiceContext;
  readonly call: ServerUnaryCall<AdjustInfo, Response>;

  constructor(svcCtx: ServiceContext, call: ServerUnaryCall<AdjustInfo, Response>) {
    this.svcCtx = svcCtx;
    this.call = call;
  }

  async transInXa(_in: AdjustInfo): Promise<Response> {
    return xaBranch(this.svcCtx, this.call, 'TransInXa', 'xa transfer in {amount} cents to {user}', 'in');
  }
}
