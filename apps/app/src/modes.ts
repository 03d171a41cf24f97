// One function per transaction mode of `npm run app -- <mode> [--fail]`. Each returns the gid it ran;
// main.ts then reads the final status from dtm.

import { openBank } from '@dtm-gozero/bank';
import {
  DtmFailure,
  genGid,
  MsgGrpc,
  SagaGrpc,
  type TransOptions,
  tccGlobalTransaction,
  xaGlobalTransaction,
} from '@dtm-gozero/dtmgrpc';
import { AdjustInfo, TransSvcService } from '@dtm-gozero/proto/trans';
import { bankSource } from './status.ts';
import { appWorkflows, EXAMPLE_WORKFLOW } from './workflow.ts';

export interface ModeContext {
  dtm: string;
  busiServer: string;
  fail: boolean;
  /** trans's YAML naming the bank's database (msg-db's local transaction writes there). */
  bankFile: string;
}

export const MODES = ['msg', 'tcc', 'saga', 'xa', 'msg-db', 'workflow'] as const;
export type Mode = (typeof MODES)[number];

const req1 = { Amount: 30n, UserID: 1n };
const req2 = { Amount: 30n, UserID: 2n };

/**
 * Options for every mode. waitResult: dtm answers Submit (and Abort) only after its first pass over the
 * branches, so the transcript never depends on timing. With --fail, trans is asked (through a dtm branch
 * header, which dtm passes on every branch call) to answer FAILURE from the named method.
 */
function options(ctx: ModeContext, failMethod: string): TransOptions {
  return { waitResult: true, ...(ctx.fail ? { branchHeaders: { 'trans-fail': failMethod } } : {}) };
}

/** The seed: the Go example's msg (submit only) then its TCC, which uses TransOut as try, confirm and cancel. */
export async function seed(ctx: ModeContext): Promise<{ msg: string; tcc: string }> {
  // The branch is the generated descriptor, so the invoke path (/trans.TransSvc/TransOut) cannot be mistyped;
  // dtm stores busiServer + "/trans.TransSvc/TransOut", exactly the URL the Go example builds by hand.
  const msgGid = await genGid(ctx.dtm);
  const msg = new MsgGrpc(ctx.dtm, msgGid)
    .add(ctx.busiServer, TransSvcService.transOut, req1)
    .add(ctx.busiServer, TransSvcService.transIn, req2);
  // Submit returns after dtm called both branches: the msg's two lines always come before the TCC's.
  msg.options.waitResult = true;
  await msg.submit();

  // As in the Go original, TransOut stands in for try, confirm and cancel (`npm run app -- tcc` uses real ones).
  const tccGid = await genGid(ctx.dtm);
  await tccGlobalTransaction(
    ctx.dtm,
    tccGid,
    async (tcc) => {
      await tcc.callBranch(
        ctx.busiServer,
        { try: TransSvcService.transOut, confirm: TransSvcService.transOut, cancel: TransSvcService.transOut },
        req1,
      );
    },
    (tcc) => {
      // Submit returns after dtm has run the confirm: the fourth line is printed before the app exits.
      tcc.options.waitResult = true;
    },
  );
  return { msg: msgGid, tcc: tccGid };
}

/** 2-phase message: Prepare with a back-check, a local step, then Submit (or Abort when the step fails). */
export async function msg(ctx: ModeContext): Promise<string> {
  const gid = await genGid(ctx.dtm);
  const m = new MsgGrpc(ctx.dtm, gid)
    .add(ctx.busiServer, TransSvcService.transOut, req1)
    .add(ctx.busiServer, TransSvcService.transIn, req2);
  m.options = options(ctx, '');
  await m
    .doAndSubmit(`${ctx.busiServer}${TransSvcService.queryPrepared.path}`, async () => {
      // The local step of a real service would write its database here (see msg-db).
      if (ctx.fail) throw new DtmFailure('local step failed (--fail): the message is aborted');
    })
    .catch(expectFailure(ctx));
  return gid;
}

/**
 * 2-phase message whose local step is a transaction in the bank's database with the msg barrier: user 1 pays
 * locally, then dtm calls TransIn, which credits user 2 (trans must run the bank: `-f apps/trans/etc/bank.yaml`).
 */
export async function msgDb(ctx: ModeContext): Promise<string> {
  const bank = openBank(bankSource(ctx.bankFile, 'apps/trans/etc/bank.yaml'));
  try {
    await bank.migrate();
    const gid = await genGid(ctx.dtm);
    const m = new MsgGrpc(ctx.dtm, gid).add(ctx.busiServer, TransSvcService.transIn, req2);
    m.options = options(ctx, '');
    await m
      .doAndSubmit(`${ctx.busiServer}${TransSvcService.queryPrepared.path}`, (bb) =>
        bank.barrier(bb, async (acc) => {
          await acc.canCredit(req2.UserID, req2.Amount);
          await acc.debit(req1.UserID, req1.Amount, { gid, branchId: bb.branchId, op: bb.op });
          // With --fail the local transaction rolls back (with its barrier row) and the message is aborted.
          if (ctx.fail) throw new DtmFailure('local transaction failed (--fail): rolled back, the message is aborted');
        }),
      )
      .catch(expectFailure(ctx));
    if (!ctx.fail) {
      // The money must arrive: a trans that only logs (no database in its YAML) would swallow it.
      const credited = (await bank.ledger([gid])).some((r) => r.user === req2.UserID && r.delta === req2.Amount);
      if (!credited) {
        throw new Error(
          `msg-db ${gid}: user ${req2.UserID} was not credited; trans runs without the bank — start it with ` +
            '`npm run trans -- -f apps/trans/etc/bank.yaml` (the same database as --bank)',
        );
      }
    }
    return gid;
  } finally {
    await bank.close();
  }
}

/** TCC with real confirm and cancel methods; --fail makes TransIn's try fail, so dtm cancels both branches. */
export async function tcc(ctx: ModeContext): Promise<string> {
  const gid = await genGid(ctx.dtm);
  await tccGlobalTransaction(
    ctx.dtm,
    gid,
    async (t) => {
      await t.callBranch(
        ctx.busiServer,
        {
          try: TransSvcService.transOut,
          confirm: TransSvcService.transOutConfirm,
          cancel: TransSvcService.transOutRevert,
        },
        req1,
      );
      await t.callBranch(
        ctx.busiServer,
        {
          try: TransSvcService.transIn,
          confirm: TransSvcService.transInConfirm,
          cancel: TransSvcService.transInRevert,
        },
        req2,
      );
    },
    (t) => {
      t.options = options(ctx, 'TransIn');
    },
  ).catch(expectFailure(ctx));
  return gid;
}

/** SAGA: TransOut then TransIn; --fail makes TransIn answer FAILURE, so dtm runs both compensations in reverse. */
export async function saga(ctx: ModeContext): Promise<string> {
  const gid = await genGid(ctx.dtm);
  const s = new SagaGrpc(ctx.dtm, gid)
    .add(ctx.busiServer, { action: TransSvcService.transOut, compensate: TransSvcService.transOutRevert }, req1)
    .add(ctx.busiServer, { action: TransSvcService.transIn, compensate: TransSvcService.transInRevert }, req2);
  s.options = options(ctx, 'TransIn');
  await s.submit().catch(expectFailure(ctx));
  return gid;
}

/** XA on MySQL: each branch is a local XA transaction in trans; --fail makes TransInXa fail, so TransOutXa rolls back. */
export async function xa(ctx: ModeContext): Promise<string> {
  // trans creates the example's tables on first use; its XA branches update them.
  const gid = await genGid(ctx.dtm);
  await xaGlobalTransaction(
    ctx.dtm,
    gid,
    async (x) => {
      await x.callBranch(ctx.busiServer, TransSvcService.transOutXa, req1);
      await x.callBranch(ctx.busiServer, TransSvcService.transInXa, req2);
    },
    (x) => {
      x.options = options(ctx, 'TransInXa');
    },
  ).catch(expectFailure(ctx));
  return gid;
}

/**
 * Workflow: a saga step (TransOut), a TCC step (TransIn, then TransInConfirm) and a local step in one function
 * (./workflow.ts); --fail makes TransIn answer FAILURE, so the workflow rolls back the saga step (TransOutRevert).
 */
export async function workflow(ctx: ModeContext): Promise<string> {
  const registry = await appWorkflows(ctx.dtm, ctx.busiServer);
  const gid = await genGid(ctx.dtm);
  await registry
    .execute(EXAMPLE_WORKFLOW, gid, AdjustInfo.encode(req1).finish(), {
      custom: (wf) => {
        Object.assign(wf.options, options(ctx, 'TransIn'));
      },
    })
    .catch(expectFailure(ctx));
  return gid;
}

/** With --fail a FAILURE is the expected outcome (the status printed afterwards says what dtm did). */
function expectFailure(ctx: ModeContext): (err: unknown) => void {
  return (err) => {
    if (ctx.fail && err instanceof DtmFailure) return;
    throw err;
  };
}
