// What a branch of a transfer does to its account, and the check of its payload: the bank's rules, the same for
// every transaction mode and database.
import { DtmFailure } from '@dtm-gozero/dtmgrpc';
import type { AdjustInfo } from '@dtm-gozero/proto/trans';
import type { Accounts, LedgerKey } from './store.ts';

/**
 * A request dtm must not retry and must roll back: a FAILURE naming the bad field. (A payload is stored by dtm and
 * replayed on every retry, so anything but FAILURE would make a bad amount a poison message.) Checked inside the
 * barrier only: a cancel/compensate of a refused payload is then the barrier's null compensation, never a FAILURE
 * dtm would retry forever (dtm rolls back on FAILURE only from a first phase).
 */
export function checkAdjustInfo(in_: AdjustInfo): void {
  if (in_.Amount <= 0n) {
    throw new DtmFailure(`Amount ${in_.Amount} is not positive; transfer a positive whole number of cents`);
  }
  if (in_.UserID <= 0n) throw new DtmFailure(`UserID ${in_.UserID} is not a valid account id (ids start at 1)`);
}

/** What a branch does to its account. */
export type Effect = 'debit' | 'credit' | 'check' | 'none';

/**
 * The effect of a branch, by direction (TransOut* / TransIn*) and dtm's op. A workflow calls its steps with op
 * action, then the phase-2 methods with commit (TransInConfirm / TransOutConfirm: nothing left to do) or rollback
 * (the Revert methods: undo the action).
 */
export function effectOf(dir: 'out' | 'in', op: string): Effect {
  if (dir === 'out') {
    if (op === 'try' || op === 'action') return 'debit';
    // confirm / commit: the try or action already took it
    return op === 'cancel' || op === 'compensate' || op === 'rollback' ? 'credit' : 'none';
  }
  if (op === 'action' || op === 'confirm') return 'credit';
  // TCC: credit on confirm only, so a cancel has nothing to take back; the try checks the confirm can apply
  if (op === 'try') return 'check';
  return op === 'compensate' || op === 'rollback' ? 'debit' : 'none';
}

/** Applies `effect` of the payload to its account, with its ledger row under `key`. */
export async function applyEffect(acc: Accounts, effect: Effect, in_: AdjustInfo, key: LedgerKey): Promise<void> {
  if (effect === 'debit') await acc.debit(in_.UserID, in_.Amount, key);
  else if (effect === 'credit') await acc.credit(in_.UserID, in_.Amount, key);
  else if (effect === 'check') await acc.canCredit(in_.UserID, in_.Amount);
}
