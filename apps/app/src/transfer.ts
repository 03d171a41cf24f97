// The bank's transfers, one per transaction mode: `npm run app -- transfer --from 1 --to 2 --amount 30 --mode saga`.
// trans moves the money (its YAML names the database); the msg mode's local step debits here, in the same database.

import type { Bank } from '@dtm-gozero/bank';
import {
  DtmFailure,
  MsgGrpc,
  SagaGrpc,
  type TransOptions,
  tccGlobalTransaction,
  xaGlobalTransaction,
} from '@dtm-gozero/dtmgrpc';
import { TransSvcService } from '@dtm-gozero/proto/trans';
import { appWorkflows, TRANSFER_WORKFLOW } from './workflow.ts';

export const TRANSFER_MODES = ['saga', 'tcc', 'msg', 'xa', 'workflow'] as const;
export type TransferMode = (typeof TRANSFER_MODES)[number];

export interface Transfer {
  from: bigint;
  to: bigint;
  amount: bigint;
  mode: TransferMode;
}

export interface BankContext {
  dtm: string;
  busiServer: string;
  bank: Bank;
  /** Extra options for each transaction (default: waitResult, so Submit reports the outcome). */
  options?: TransOptions;
}

const INT64_MAX = 2n ** 63n - 1n;

/** Parses and checks the transfer flags; every message names the flag and what it accepts. */
export function parseTransfer(v: { from?: string; to?: string; amount?: string; mode?: string }): Transfer {
  const id = (flag: string, s: string | undefined): bigint => {
    if (s === undefined) throw new Error(`--${flag} is missing; pass an account id, e.g. --${flag} 1`);
    if (!/^[0-9]+$/.test(s) || BigInt(s) < 1n || BigInt(s) > INT64_MAX) {
      throw new Error(`--${flag} ${JSON.stringify(s)} is not an account id; pass a whole number ≥ 1`);
    }
    return BigInt(s);
  };
  const from = id('from', v.from);
  const to = id('to', v.to);
  if (from === to) throw new Error(`--from and --to are both ${from}; a transfer needs two different accounts`);
  const a = v.amount;
  if (a === undefined) throw new Error('--amount is missing; pass the amount in cents, e.g. --amount 30');
  if (!/^-?[0-9]+$/.test(a)) {
    throw new Error(`--amount ${JSON.stringify(a)} is not a whole number of cents; pass e.g. --amount 30`);
  }
  const amount = BigInt(a);
  if (amount <= 0n) throw new Error(`--amount ${a} is not positive; pass a positive number of cents`);
  if (amount > INT64_MAX) throw new Error(`--amount ${a} is above 2^63-1, the largest int64; pass a smaller amount`);
  const mode = (v.mode ?? 'saga') as TransferMode;
  if (!TRANSFER_MODES.includes(mode)) {
    throw new Error(
      `--mode ${JSON.stringify(v.mode)} is not a transfer mode; pass one of ${TRANSFER_MODES.join(', ')}`,
    );
  }
  return { from, to, amount, mode };
}

/**
 * Runs one transfer as global transaction `gid`. Resolves when dtm reports success; rejects with DtmFailure when
 * the bank refused it (unknown account, insufficient funds) and dtm rolled it back, or with another error when dtm
 * or trans could not be reached (then dtm may still finish it: ask dtm for the gid).
 */
export async function transfer(ctx: BankContext, gid: string, t: Transfer): Promise<void> {
  const out = { Amount: t.amount, UserID: t.from };
  const in_ = { Amount: t.amount, UserID: t.to };
  const options: TransOptions = { waitResult: true, ...ctx.options };
  const s = ctx.busiServer;
  switch (t.mode) {
    case 'saga': {
      const saga = new SagaGrpc(ctx.dtm, gid)
        .add(s, { action: TransSvcService.transOut, compensate: TransSvcService.transOutRevert }, out)
        .add(s, { action: TransSvcService.transIn, compensate: TransSvcService.transInRevert }, in_);
      saga.options = options;
      await saga.submit();
      return;
    }
    case 'tcc':
      await tccGlobalTransaction(
        ctx.dtm,
        gid,
        async (tcc) => {
          const m = TransSvcService;
          await tcc.callBranch(s, { try: m.transOut, confirm: m.transOutConfirm, cancel: m.transOutRevert }, out);
          await tcc.callBranch(s, { try: m.transIn, confirm: m.transInConfirm, cancel: m.transInRevert }, in_);
        },
        (tcc) => {
          tcc.options = options;
        },
      );
      return;
    case 'xa':
      await xaGlobalTransaction(
        ctx.dtm,
        gid,
        async (xa) => {
          await xa.callBranch(s, TransSvcService.transOutXa, out);
          await xa.callBranch(s, TransSvcService.transInXa, in_);
        },
        (xa) => {
          xa.options = options;
        },
      );
      return;
    case 'workflow': {
      // TransOut then TransIn in one workflow (./workflow.ts); a refusal of TransIn rolls the debit back.
      // The options reach dtm with PrepareWorkflow, which keeps them (retry interval, timeout) for its resumes too.
      const registry = await appWorkflows(ctx.dtm, s);
      await registry.execute(
        TRANSFER_WORKFLOW,
        gid,
        { from: t.from, to: t.to, amount: t.amount },
        { custom: (wf) => Object.assign(wf.options, options) },
      );
      return;
    }
    case 'msg': {
      // The debit is the local step: it commits together with the msg barrier row in the bank's database, and dtm
      // then credits through TransIn, a msg branch dtm retries until it succeeds: so the step checks here that the
      // account exists and can take the amount (a FAILURE now aborts the message; a refused credit later never could).
      const m = new MsgGrpc(ctx.dtm, gid).add(s, TransSvcService.transIn, in_);
      m.options = options;
      await m.doAndSubmit(`${s}${TransSvcService.queryPrepared.path}`, (bb) =>
        ctx.bank.barrier(bb, async (acc) => {
          await acc.canCredit(t.to, t.amount);
          await acc.debit(t.from, t.amount, { gid, branchId: bb.branchId, op: bb.op });
        }),
      );
      return;
    }
  }
}

/** Why a transfer did not go through, in one line (the bank's words when it refused). */
export function refusal(err: unknown): string {
  const m = err instanceof Error ? err.message : String(err);
  // dtm appends its result word to a branch's message ("… needs 100000000 FAILURE"): the bank's words end before it.
  return err instanceof DtmFailure
    ? m.replace(/^.*?(account \d+ does not exist|insufficient funds)/, '$1').replace(/\s+FAILURE$/, '')
    : m;
}
