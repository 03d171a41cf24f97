import { barrierFromGrpc, DtmFailure } from '@dtm-gozero/dtmgrpc';
import { logPrintf } from '@dtm-gozero/gozero';
import type { AdjustInfo, Response } from '@dtm-gozero/proto/trans';
import type { ServerUnaryCall } from '@grpc/grpc-js';
import type { ServiceContext } from '../svc/service-context.ts';

/**
 * QueryPrepared: dtm's back-check of a 2-phase message whose local step ran with the msg barrier
 * (`npm run app -- msg-db`, `transfer --mode msg`). Committed → OK (dtm goes on); never committed → FAILURE (dtm
 * fails the message, and the barrier row now stops a late local commit). It reads the bank's database — the one the
 * app's local transaction wrote its barrier row to, since the app takes it from trans's own config.
 */
export class QueryPreparedLogic {
  readonly svcCtx: ServiceContext;
  readonly call: ServerUnaryCall<AdjustInfo, Response>;

  constructor(svcCtx: ServiceContext, call: ServerUnaryCall<AdjustInfo, Response>) {
    this.svcCtx = svcCtx;
    this.call = call;
  }

  async queryPrepared(_in: AdjustInfo): Promise<Response> {
    const bb = barrierFromGrpc(this.call);
    try {
      await (await this.svcCtx.bank()).queryPrepared(bb);
    } catch (err) {
      if (err instanceof DtmFailure) logPrintf('query prepared %s: local transaction not committed', bb.gid);
      throw err;
    }
    logPrintf('query prepared %s: local transaction committed', bb.gid);
    return {};
  }
}
