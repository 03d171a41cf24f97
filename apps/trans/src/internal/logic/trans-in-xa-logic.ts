import { xaLocalTransaction } from '@dtm-gozero/dtmgrpc';
import { logPrintf } from '@dtm-gozero/gozero';
import type { AdjustInfo, Response } from '@dtm-gozero/proto/trans';
import type { ServerUnaryCall } from '@grpc/grpc-js';
import type { ServiceContext } from '../svc/service-context.ts';
import { adjust } from './adjust.ts';

/** TransInXa: an XA branch; phase 1 credits user_account in a local XA transaction, phase 2 (dtm) commits or rolls it back. */
export class TransInXaLogic {
  readonly svcCtx: ServiceContext;
  readonly call: ServerUnaryCall<AdjustInfo, Response>;

  constructor(svcCtx: ServiceContext, call: ServerUnaryCall<AdjustInfo, Response>) {
    this.svcCtx = svcCtx;
    this.call = call;
  }

  async transInXa(in_: AdjustInfo): Promise<Response> {
    await xaLocalTransaction(this.call, { mysql: this.svcCtx.db() }, async (conn, info) => {
      adjust(this.call.metadata, 'TransInXa', 'xa transfer in {amount} cents to {user}', in_);
      await conn.query('UPDATE dtm_busi.user_account SET balance = balance + ? WHERE user_id = ?', [
        in_.Amount,
        in_.UserID,
      ]);
      return info;
    });
    const op = this.call.metadata.get('dtm-op')[0]?.toString();
    if (op === 'commit' || op === 'rollback') {
      logPrintf(
        'xa %s %s branch %s',
        op,
        this.call.metadata.get('dtm-gid')[0],
        this.call.metadata.get('dtm-branch_id')[0],
      );
    }
    return {};
  }
}
