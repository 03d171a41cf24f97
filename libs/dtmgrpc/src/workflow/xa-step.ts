// A workflow's XA step (dtm's `Workflow.DoXa`): the same local XA phases as an XA branch (xa/mysql.ts,
// xa/postgres.ts), but run in the workflow's own process and recorded as workflow progress instead of registered
// as an xa branch with dtm.
import { getBarrierTableName, OP_ACTION } from '../barrier/core.ts';
import { DtmFailure, DtmInputError } from '../errors.ts';
import { XA_BARRIER_ID, type XaBranch, type XaDb } from '../xa/contract.ts';
import { mysqlPhase1, mysqlPhase2 } from '../xa/mysql.ts';
import { pgPhase1, pgPhase2 } from '../xa/postgres.ts';

function xaBranch(
  db: XaDb<unknown>,
  gid: string,
  branchId: string,
  op: string,
  register: () => Promise<void>,
): XaBranch {
  const xid = `${gid}-${branchId}`;
  if (/['\\\0]/.test(xid)) {
    throw new DtmInputError(`xa id ${JSON.stringify(xid)} contains a quote, backslash or NUL; use dtm's gids`);
  }
  const max = 'mysql' in db ? 64 : 199;
  if (Buffer.byteLength(xid) > max) {
    throw new DtmInputError(`xa id '${xid}' is longer than the database's limit of ${max} bytes; use a shorter gid`);
  }
  return {
    info: { gid, transType: 'workflow', branchId, op, dtm: '', phase2Url: '' },
    xid,
    barrierRow: (reason) => ['workflow', gid, branchId, OP_ACTION, XA_BARRIER_ID, reason],
    barrierTable: getBarrierTableName(),
    register,
    late: () =>
      new DtmFailure(`workflow ${gid} branch ${branchId}: xa step already ran, or its rollback came first; not again`),
  };
}

/** Phase 1: XA start, barrier row, `fn`, `record` (the step's `business` progress), prepare. */
export async function xaStepPhase1<C>(
  db: XaDb<C>,
  gid: string,
  branchId: string,
  fn: (conn: C) => Promise<void>,
  record: () => Promise<void>,
): Promise<void> {
  const b = xaBranch(db as XaDb<unknown>, gid, branchId, OP_ACTION, record);
  if ('mysql' in db) await mysqlPhase1(db.mysql, b, (conn) => fn(conn as C));
  else await pgPhase1(db.postgres, b, (client) => fn(client as C));
}

/** Phase 2: XA commit or rollback of the step's prepared transaction (an unknown one counts as done). */
export async function xaStepPhase2<C>(db: XaDb<C>, gid: string, branchId: string, op: string): Promise<void> {
  const b = xaBranch(db as XaDb<unknown>, gid, branchId, op, async () => {});
  if ('mysql' in db) await mysqlPhase2(db.mysql, b);
  else await pgPhase2(db.postgres, b);
}
