import { logPrintf } from '@dtm-gozero/gozero';
import type { AdjustInfo, Response } from '@dtm-gozero/proto/trans';
import type { ServiceContext } from '../svc/service-context.ts';

/** TransIn: puts money into a user's account; here it only logs, as the Go example does. */
export class TransInLogic {
  readonly svcCtx: ServiceContext;

  constructor(svcCtx: ServiceContext) {
    this.svcCtx = svcCtx;
  }

  async transIn(in_: AdjustInfo): Promise<Response> {
    logPrintf('transfer in %d cents to %d', in_.Amount, in_.UserID);
    return {};
  }
}
