import { dtmHandler } from '@dtm-gozero/dtmgrpc';
import type { TransSvcServer } from '@dtm-gozero/proto/trans';
import { QueryPreparedLogic } from '../logic/query-prepared-logic.ts';
import { TransInConfirmLogic } from '../logic/trans-in-confirm-logic.ts';
import { TransInLogic } from '../logic/trans-in-logic.ts';
import { TransInRevertLogic } from '../logic/trans-in-revert-logic.ts';
import { TransInXaLogic } from '../logic/trans-in-xa-logic.ts';
import { TransOutConfirmLogic } from '../logic/trans-out-confirm-logic.ts';
import { TransOutLogic } from '../logic/trans-out-logic.ts';
import { TransOutRevertLogic } from '../logic/trans-out-revert-logic.ts';
import { TransOutXaLogic } from '../logic/trans-out-xa-logic.ts';
import type { ServiceContext } from '../svc/service-context.ts';

/**
 * Maps each RPC to a fresh logic object per call, as goctl's generated server does. dtmHandler answers
 * errors the way dtm reads them (DtmFailure → ABORTED, DtmOngoing → FAILED_PRECONDITION, others → retry).
 */
export function newTransSvcServer(svcCtx: ServiceContext): TransSvcServer {
  return {
    transIn: dtmHandler((req, call) => new TransInLogic(svcCtx, call).transIn(req)),
    transOut: dtmHandler((req, call) => new TransOutLogic(svcCtx, call).transOut(req)),
    transInConfirm: dtmHandler((req, call) => new TransInConfirmLogic(svcCtx, call).transInConfirm(req)),
    transInRevert: dtmHandler((req, call) => new TransInRevertLogic(svcCtx, call).transInRevert(req)),
    transOutConfirm: dtmHandler((req, call) => new TransOutConfirmLogic(svcCtx, call).transOutConfirm(req)),
    transOutRevert: dtmHandler((req, call) => new TransOutRevertLogic(svcCtx, call).transOutRevert(req)),
    transInXa: dtmHandler((req, call) => new TransInXaLogic(svcCtx, call).transInXa(req)),
    transOutXa: dtmHandler((req, call) => new TransOutXaLogic(svcCtx, call).transOutXa(req)),
    queryPrepared: dtmHandler((req, call) => new QueryPreparedLogic(svcCtx, call).queryPrepared(req)),
  };
}
