import { logPrintf } from '@dtm-gozero/gozero';
import type { AdjustInfo, Response } from '@dtm-gozero/proto/trans';
import type { ServiceContext } from '../svc/service-context.ts';

/** TransOut: takes money out of a user's account; here it only logs, as the Go example does. */
export class TransOutLogic {
  readonly svcCtx: ServiceContext;

  constructor(svcCtx: ServiceContext) {
    this.svcCtx = svcCtx;
  }

  async transOut(in_: AdjustInfo): Promise<Response> {
    logPrintf('transfer out %d cents from %d', in_.Amount, in_.UserID);
    return {};
  }
}
