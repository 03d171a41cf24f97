import type { Transfer } from '@dtm-gozero/app/transfer';
import type { Bank } from '@dtm-gozero/bank';
import type { Status } from './dtm-api.ts';

export interface Evidence {
  plans: Map<string, Transfer>;
  /** dtm's status of each gid (`none`: never stored; undefined: no dtm answered). */
  statuses: Map<string, Status | undefined>;
  ledger: Awaited<ReturnType<Bank['ledger']>>;
  barrier: Awaited<ReturnType<Bank['barrierRows']>>;
  balances: Map<bigint, bigint>;
  accounts: readonly bigint[];
  totalBefore: bigint;
}

/** The verdict from what the database and dtm hold (pure: unit-tested on crafted evidence). */
export function judge(e: Evidence) {
  const { plans, statuses: st, ledger, barrier, balances } = e;
  const guarded = new Set(barrier.map((b) => `${b.gid}\u0000${b.branchId}\u0000${b.op}`));
  const byGid = new Map<string, typeof ledger>();
  for (const r of ledger) byGid.set(r.gid, [...(byGid.get(r.gid) ?? []), r]);
  const violations: string[] = [];
  let lost = 0;
  let doubled = 0;
  let unguarded = 0;
  let unfinished = 0;
  let succeeded = 0;
  let failed = 0;
  let notStarted = 0;
  const byMode: Record<string, { succeed: number; failed: number }> = {};
  let meantToFail = 0;
  for (const [gid, t] of plans) {
    const s = st.get(gid);
    const rows = byGid.get(gid) ?? [];
    const m = byMode[t.mode] ?? { succeed: 0, failed: 0 };
    byMode[t.mode] = m;
    if (s === 'succeed' || s === 'failed') m[s]++;
    if (t.amount > e.totalBefore) {
      // more than all the money there is: it can only fail
      meantToFail++;
      if (s === 'succeed') violations.push(`${gid}: asked for ${t.amount}, more than exists, and succeeded`);
    }
    if (s === 'succeed') succeeded++;
    else if (s === 'failed') failed++;
    else if (s === 'none') notStarted++;
    else {
      unfinished++;
      violations.push(`${gid}: dtm status ${s ?? 'unknown (no dtm answered)'}`);
      continue;
    }
    // every balance change went through the barrier: its (gid, branch, op) row exists
    for (const r of rows) {
      const op = r.op === 'commit' ? 'action' : r.op; // XA: the ledger row is written in phase 1 (op action)
      if (!guarded.has(`${gid}\u0000${r.branchId}\u0000${op}`)) {
        unguarded++;
        violations.push(`${gid}: ledger row ${r.branchId}/${r.op} has no barrier row`);
      }
    }
    const net = new Map<bigint, bigint>();
    for (const r of rows) net.set(r.user, (net.get(r.user) ?? 0n) + r.delta);
    const want = new Map<bigint, bigint>(
      s === 'succeed'
        ? [
            [t.from, -t.amount],
            [t.to, t.amount],
          ]
        : [],
    );
    const users = new Set([...net.keys(), ...want.keys()]);
    const same = [...users].every((u) => (net.get(u) ?? 0n) === (want.get(u) ?? 0n));
    // A debit or credit applied twice shows as a second row of the same sign for one user and branch op.
    const perOp = new Map<string, number>();
    for (const r of rows) {
      const k = `${r.user}\u0000${r.branchId}\u0000${r.op}`;
      perOp.set(k, (perOp.get(k) ?? 0) + 1);
    }
    const repeated = [...perOp.values()].some((n) => n > 1);
    if (same && !repeated) continue;
    const sum = [...net.values()].reduce((a, b) => a + b, 0n);
    const over = [...users].some((u) => {
      const a = net.get(u) ?? 0n;
      const w = want.get(u) ?? 0n;
      return (a < 0n ? -a : a) > (w < 0n ? -w : w);
    });
    if (repeated || sum > 0n || (sum === 0n && over)) doubled++;
    else lost++;
    violations.push(
      `${gid} (${t.mode} ${t.from}→${t.to} ${t.amount}, dtm ${s}): ledger ${JSON.stringify(rows.map((r) => `${r.user}:${r.delta}@${r.branchId}/${r.op}`))}`,
    );
  }
  let totalAfter = 0n;
  let negative = 0;
  for (const u of e.accounts) {
    const b = balances.get(u) ?? 0n;
    totalAfter += b;
    if (b < 0n) {
      negative++;
      violations.push(`account ${u} is at ${b}`);
    }
  }
  const conserved = totalAfter === e.totalBefore;
  if (!conserved) violations.push(`balances sum to ${totalAfter}, started at ${e.totalBefore}`);
  return {
    byMode,
    meantToFail,
    lost,
    doubled,
    unguarded,
    unfinished,
    negative,
    conserved,
    totalAfter,
    succeeded,
    failed,
    notStarted,
    violations,
    st,
  };
}
