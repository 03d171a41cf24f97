// What every database behind the bank offers (the contract ./mysql.ts and ./postgres.ts implement), and what they
// share: the bounds on every database wait, the seed accounts, the refusals a transfer can meet, and the messages
// of an unreachable database (never with its password).
import { createRequire } from 'node:module';
import { type BranchBarrier, DtmFailure, type XaBranchInfo } from '@dtm-gozero/dtmgrpc';
import type { Metadata } from '@grpc/grpc-js';
import type { DataSource } from './datasource.ts';

/**
 * A database driver (mysql2, pg), loaded when a bank is opened rather than when the package is imported: trans
 * without a database (the Go example's YAML) then never pays the driver's memory.
 */
export const requireDriver = <T>(name: string): T => createRequire(import.meta.url)(name) as T;

/** Budget of one database wait (connect, acquire, statement, lock), well under dtm's 3 s RequestTimeout. */
export const DB_WAIT_MS = 2000;
/** Accounts every fresh bank starts with (the example's users 1 and 2), in cents. */
export const SEED_ACCOUNTS: readonly [bigint, bigint][] = [
  [1n, 10_000n],
  [2n, 10_000n],
];

/** One balance change, as the ledger records it. */
export interface LedgerKey {
  gid: string;
  branchId: string;
  op: string;
}

/** Balance changes inside one local transaction; each writes its ledger row in the same transaction. */
export interface Accounts {
  /** Takes `amount` from `user`; DtmFailure when the account does not exist or holds less. */
  debit(user: bigint, amount: bigint, key: LedgerKey): Promise<void>;
  /** Gives `amount` to `user`; DtmFailure when the account does not exist or the balance would pass 2^63-1. */
  credit(user: bigint, amount: bigint, key: LedgerKey): Promise<void>;
  /**
   * DtmFailure unless `user` exists and can take `amount` now (the balance stays ≤ 2^63-1): what a first phase
   * checks when the credit itself comes in a later phase that must not fail (TCC confirm, a msg branch).
   */
  canCredit(user: bigint, amount: bigint): Promise<void>;
}

export interface Bank {
  readonly source: DataSource;
  /** Creates the database, tables and barrier table when missing, and the seed accounts (idempotent). */
  migrate(): Promise<void>;
  /** Runs `busi` in one local transaction guarded by the barrier `bb` (barrier insert, business SQL, COMMIT). */
  barrier(bb: BranchBarrier, busi: (acc: Accounts) => Promise<void>): Promise<void>;
  /** The 2-phase message back-check on this database (OK: the local transaction committed). */
  queryPrepared(bb: BranchBarrier): Promise<void>;
  /** An XA branch (phase 1 runs `busi`, phase 2 commits or rolls back). */
  xa(call: { readonly metadata: Metadata }, busi: (acc: Accounts, info: XaBranchInfo) => Promise<void>): Promise<void>;
  /** Balances of all accounts, by user id. */
  balances(): Promise<Map<bigint, bigint>>;
  /** Sets balances (creating accounts); for tests and the chaos suite. */
  setBalances(rows: readonly [bigint, bigint][]): Promise<void>;
  /** Ledger rows of the given gids (all when omitted). */
  ledger(gids?: readonly string[]): Promise<(LedgerKey & { user: bigint; delta: bigint })[]>;
  /** Barrier rows of the given gids. */
  barrierRows(gids: readonly string[]): Promise<{ gid: string; branchId: string; op: string; reason: string }[]>;
  close(): Promise<void>;
}

/** The source's password, as written and URL-decoded: what must never reach a message. */
function secretsOf(source: DataSource): string[] {
  let pw = '';
  if (source.dialect === 'mysql') pw = source.password;
  else {
    try {
      pw = new URL(source.url).password;
    } catch {
      pw = '';
    }
  }
  if (pw === '') return [];
  let decoded = pw;
  try {
    decoded = decodeURIComponent(pw);
  } catch {
    // not URL-encoded
  }
  return [...new Set([pw, decoded, encodeURIComponent(pw)])].sort((a, b) => b.length - a.length);
}

/** `text` with every form of the source's password replaced by `***` (a driver may echo what it was given). */
function scrub(source: DataSource, text: string): string {
  let out = text;
  for (const p of secretsOf(source)) out = out.split(p).join('***');
  return out;
}

/** Explains an unreachable database: which one, and what to do. */
export function dbError(source: DataSource, err: unknown): Error {
  const e = err as { message?: string; code?: string };
  const tls =
    source.dialect === 'mysql' && source.tls !== 'false' && /SSL|TLS|secure connection/i.test(String(e.message))
      ? ` (the DataSource asks for TLS: tls=${source.tls}; use tls=preferred or tls=false for a server without it)`
      : '';
  return new Error(
    scrub(
      source,
      `database ${source.shown} is unreachable or refused the request (${e.code ? `${e.code}: ` : ''}${e.message})${tls}; ` +
        'start it with `bash scripts/db.sh up`, or fix Mysql.DataSource / Postgres.DataSource in the config',
    ),
    { cause: err },
  );
}

/** Rejects after `ms` when `p` has not settled; `onLate` receives a value that arrives after that. */
export function deadline<T>(p: Promise<T>, ms: number, what: string, onLate?: (v: T) => void): Promise<T> {
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      timedOut = true;
      reject(new Error(`${what}: no answer within ${ms} ms`));
    }, ms);
  });
  p.then((v) => timedOut && onLate?.(v)).catch(() => undefined);
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** The largest balance a BIGINT column holds. */
export const MAX_BALANCE = 2n ** 63n - 1n;

export const notFound = (user: bigint): DtmFailure =>
  new DtmFailure(`account ${user} does not exist; transfer between existing accounts (npm run app -- balances)`);
export const overflow = (user: bigint, has: unknown, amount: bigint): DtmFailure =>
  new DtmFailure(
    `account ${user} holds ${has}; crediting ${amount} would pass the largest balance 2^63-1; transfer less`,
  );
export const insufficient = (user: bigint, has: unknown, amount: bigint): DtmFailure =>
  new DtmFailure(`insufficient funds: account ${user} holds ${has}, the transfer needs ${amount}`);

/** The four statements a database gives the account rules: each reports rows changed, or the balance (text). */
export interface AccountRows {
  /** Subtracts `amount` where the balance covers it; the rows changed. */
  debitRow(user: bigint, amount: bigint): Promise<number>;
  /** Adds `amount` where the balance stays ≤ MAX_BALANCE (so BIGINT arithmetic never overflows: a database error
   * dtm would retry); the rows changed. */
  creditRow(user: bigint, amount: bigint): Promise<number>;
  balanceOf(user: bigint): Promise<string | undefined>;
  /** Inserts the ledger row; the rows changed. */
  ledgerRow(user: bigint, delta: bigint, key: LedgerKey): Promise<number>;
}

/** The account rules, the same on every database: a refused change names why, and every change has a ledger row. */
export function accountsOn(db: AccountRows): Accounts {
  const addLedger = async (user: bigint, delta: bigint, k: LedgerKey): Promise<void> => {
    if ((await db.ledgerRow(user, delta, k)) !== 1) throw new Error(`bank: ledger row for ${k.gid} not written`);
  };
  return {
    async debit(user, amount, k) {
      if ((await db.debitRow(user, amount)) !== 1) {
        const has = await db.balanceOf(user);
        throw has === undefined ? notFound(user) : insufficient(user, has, amount);
      }
      await addLedger(user, -amount, k);
    },
    async credit(user, amount, k) {
      if ((await db.creditRow(user, amount)) !== 1) {
        const has = await db.balanceOf(user);
        throw has === undefined ? notFound(user) : overflow(user, has, amount);
      }
      await addLedger(user, amount, k);
    },
    async canCredit(user, amount) {
      const has = await db.balanceOf(user);
      if (has === undefined) throw notFound(user);
      if (BigInt(has) > MAX_BALANCE - amount) throw overflow(user, has, amount);
    },
  };
}
