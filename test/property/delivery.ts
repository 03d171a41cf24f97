// A model of how dtm (and the network) may deliver the branch calls of one two-branch transfer — TransOut from
// account A, TransIn to account B — and the invariants every delivery must keep. The backend (trans on MariaDB or
// PostgreSQL, the Redis barrier) only answers single calls; the scenario comes from fast-check.
import fc from 'fast-check';

export const INT64_MAX = 2n ** 63n - 1n;
export const INT64_MIN = -(2n ** 63n);

export type Mode = 'saga' | 'tcc';
/** How a call ended, as dtm reads it: OK, FAILURE (ABORTED: roll back), anything else (retried later). */
export type Answer = 'ok' | 'failure' | 'transient';
export type Phase = 'first' | 'commit' | 'rollback';

/** One call as dtm makes it: branch 0 is TransOut (branch id 01), branch 1 TransIn (02). */
export interface Delivery {
  branch: 0 | 1;
  phase: Phase;
  /** Make this call crash between its barrier insert and COMMIT (SQL) or lose its answer (Redis). */
  crash: boolean;
}

export interface Backend {
  /** Answers one call of transaction `gid`; never throws for a refusal (that is an answer). */
  deliver(mode: Mode, gid: string, d: Delivery, amount: bigint, users: readonly [bigint, bigint]): Promise<Answer>;
  setBalances(rows: readonly [bigint, bigint][]): Promise<void>;
  balances(users: readonly bigint[]): Promise<bigint[]>;
}

/** A late, early, duplicated or concurrent call besides dtm's own sequence. */
export interface Noise {
  branch: 0 | 1;
  /** first: a retried/late try or action; rollback: an early cancel/compensate (only when dtm rolls back). */
  phase: 'first' | 'rollback';
  /** Before which step of dtm's sequence it arrives (past the end: after everything). */
  at: number;
  /** Sent together with that step, not before it. */
  concurrent: boolean;
  crash: boolean;
}

export interface Scenario {
  mode: Mode;
  balances: [bigint, bigint];
  amount: bigint;
  /** dtm rolls back after this many first-phase branches even when they succeed (a timeout); 2 = no rollback. */
  abortAfter: 0 | 1 | 2;
  /** Concurrent copies of each of dtm's own calls (a duplicate delivery racing the original). */
  copies: number[];
  /** Indexes of dtm's own calls (counted over attempts) that crash. */
  crashes: number[];
  noise: Noise[];
}

/** Amounts a payload may carry: the usual, the edges of int64 and of a double's exact integers. */
export const amountArb = (min = INT64_MIN): fc.Arbitrary<bigint> =>
  fc.oneof(
    fc.constantFrom(1n, 30n, 0n, -1n, INT64_MAX, INT64_MAX - 1n, INT64_MIN, 2n ** 53n, 2n ** 53n + 1n),
    fc.bigInt({ min: 1n, max: 20_000n }),
    fc.bigInt({ min, max: INT64_MAX }),
  );

/** Starting balances: empty, small, and next to the largest a BIGINT holds. */
export const balanceArb = (max = INT64_MAX): fc.Arbitrary<bigint> =>
  fc.oneof(
    fc.constantFrom(0n, 10_000n, max, max - 1n),
    fc.bigInt({ min: 0n, max: 20_000n }),
    fc.bigInt({ min: 0n, max }),
  );

export const scenarioArb = (opts: { modes: Mode[]; amount?: fc.Arbitrary<bigint>; balance?: fc.Arbitrary<bigint> }) =>
  fc.record<Scenario>({
    mode: fc.constantFrom(...opts.modes),
    balances: fc.tuple(opts.balance ?? balanceArb(), opts.balance ?? balanceArb()),
    amount: opts.amount ?? amountArb(),
    abortAfter: fc.constantFrom(0, 1, 2, 2),
    copies: fc.array(fc.constantFrom(1, 1, 2, 3), { minLength: 4, maxLength: 4 }),
    crashes: fc.uniqueArray(fc.nat({ max: 7 }), { maxLength: 3 }),
    noise: fc.array(
      fc.record<Noise>({
        branch: fc.constantFrom(0, 1),
        phase: fc.constantFrom('first', 'rollback'),
        at: fc.nat({ max: 5 }),
        concurrent: fc.boolean(),
        crash: fc.boolean(),
      }),
      { maxLength: 5 },
    ),
  });

/** Retries dtm makes before the test calls a branch stuck (a real dtm retries forever). */
const RETRIES = 6;

export interface Run {
  outcome: 'commit' | 'rollback';
  /** Every broken rule, in words; empty when the delivery kept them all. */
  violations: string[];
  log: string[];
}

/**
 * Plays one scenario: dtm's sequence (first phase in order, then commit or roll back in reverse order, every call
 * retried until it answers OK or FAILURE), with the scenario's noise spliced in, and checks the rules:
 * a second-phase call never answers FAILURE and ends in OK; a first-phase call ends in OK or FAILURE (a transient
 * answer forever would make dtm retry it forever); the balances end all-or-nothing: moved once on commit,
 * untouched on rollback; nothing negative.
 */
export async function play(backend: Backend, s: Scenario, gid: string, users: readonly [bigint, bigint]): Promise<Run> {
  const violations: string[] = [];
  const log: string[] = [];
  let attempt = 0;
  let step = 0;
  const willRollBack = s.abortAfter < 2;
  const noiseAt = (at: number, concurrent: boolean) =>
    s.noise.filter((n) => n.at === at && n.concurrent === concurrent && (n.phase === 'first' || willRollBack));
  const deliverNoise = (list: Noise[]) =>
    Promise.all(
      list.map(async (n) => {
        const a = await backend.deliver(s.mode, gid, n, s.amount, users);
        log.push(`noise ${n.phase} ${n.branch}${n.crash ? ' (crash)' : ''}: ${a}`);
        if (n.phase !== 'first' && a === 'failure') {
          violations.push(`an early ${n.phase} of branch ${n.branch} answered FAILURE (dtm would retry it forever)`);
        }
      }),
    );
  /** One of dtm's calls, with its copies, retried until it answers OK or FAILURE. */
  const dtmCall = async (branch: 0 | 1, phase: Phase): Promise<Answer> => {
    const copies = s.copies[step] ?? 1;
    let last: Answer = 'transient';
    for (let i = 0; i < RETRIES; i++) {
      const crash = s.crashes.includes(attempt++);
      const [answers] = await Promise.all([
        Promise.all(
          Array.from({ length: i === 0 ? copies : 1 }, (_, c) =>
            backend.deliver(s.mode, gid, { branch, phase, crash: crash && c === 0 }, s.amount, users),
          ),
        ),
        i === 0 ? deliverNoise(noiseAt(step, true)) : undefined,
      ]);
      log.push(`${phase} ${branch}${crash ? ' (crash)' : ''}: ${answers.join(',')}`);
      if (phase !== 'first' && answers.includes('failure')) {
        violations.push(`${phase} of branch ${branch} answered FAILURE (dtm would retry it forever)`);
        return 'failure';
      }
      // Of concurrent copies, dtm keeps the answer of the one it waited for: the first.
      last = answers[0] as Answer;
      if (last !== 'transient') return last;
    }
    violations.push(
      `${phase} of branch ${branch} answered a transient error ${RETRIES} times (dtm would retry forever)`,
    );
    return last;
  };

  let outcome: 'commit' | 'rollback' = 'commit';
  for (const branch of [0, 1] as const) {
    if (branch >= s.abortAfter) {
      outcome = 'rollback';
      break;
    }
    await deliverNoise(noiseAt(step, false));
    const a = await dtmCall(branch, 'first');
    step++;
    if (a !== 'ok') {
      outcome = 'rollback';
      break;
    }
  }
  for (const branch of [1, 0] as const) {
    if (outcome === 'commit' && s.mode === 'saga') break;
    await deliverNoise(noiseAt(step, false));
    await dtmCall(branch, outcome);
    step++;
  }
  await deliverNoise(s.noise.filter((n) => n.at >= step && (n.phase === 'first' || willRollBack)));

  const [a0, b0] = s.balances;
  const expected = outcome === 'commit' ? [a0 - s.amount, b0 + s.amount] : [a0, b0];
  const got = await backend.balances(users);
  if (got[0] !== expected[0] || got[1] !== expected[1]) {
    violations.push(
      `${outcome}: balances [${got.join(', ')}] where all-or-nothing gives [${expected.join(', ')}] ` +
        `(from [${a0}, ${b0}], amount ${s.amount})`,
    );
  }
  if (got.some((b) => b < 0n)) violations.push(`a negative balance: [${got.join(', ')}]`);
  if ((got[0] ?? 0n) + (got[1] ?? 0n) !== a0 + b0) violations.push('the sum of the two balances changed');
  return { outcome, violations, log };
}

let nextUser = BigInt(Date.now()) * 1000n;
/** Two accounts no other case (or test file) uses. */
export function freshUsers(): [bigint, bigint] {
  nextUser += 2n;
  return [nextUser, nextUser + 1n];
}
