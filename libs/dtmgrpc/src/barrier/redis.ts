// The barrier on Redis: one Lua script checks the amount key, the barrier keys and adjusts the amount atomically.
// Nothing is imported from ioredis: `eval(script, numKeys, ...keysAndArgs)` is all the barrier calls, so any
// client with that shape works (ioredis Redis). Keys are plain strings; a Redis Cluster would need all three keys
// in one hash slot, which these key names do not give (as in dtm).

import { DtmDuplicated, DtmFailure } from '../errors.ts';
import { type BarrierCore, type BarrierOutcome, MSG_BARRIER_ID, MSG_BRANCH_ID, OP_MSG, originOp } from './core.ts';

/** ioredis Redis, or anything with its promise-returning `eval`. */
export interface RedisEval {
  eval(script: string, numKeys: number, ...keysAndArgs: (string | number)[]): Promise<unknown>;
}

// KEYS[1] amount key, KEYS[2] barrier key of this op, KEYS[3] barrier key of the op it undoes (unused when none).
// ARGV[1] amount (may be negative), ARGV[2] that origin op or '', ARGV[3] expiry of barrier keys in seconds.
// The barrier checks come before the amount check (dtm's script has it the other way round): a compensation
// whose action never ran must be a no-op whatever the balance holds now, or it answers FAILURE, which dtm retries
// forever for a second-phase op, and leaves no marker, so a late action still moves the money. A refused amount
// (missing key, result below 0 or past int64) writes no barrier key, so nothing is half-applied.
const CHECK_ADJUST_AMOUNT = `-- dtm barrier: check and adjust amount
if redis.call('EXISTS', KEYS[2]) == 1 then
  return 'DUPLICATE'
end
if ARGV[2] ~= '' and redis.call('EXISTS', KEYS[3]) == 0 then
  redis.call('SET', KEYS[2], 'op', 'EX', ARGV[3])
  redis.call('SET', KEYS[3], 'rollback', 'EX', ARGV[3])
  return 'NULL_COMPENSATION'
end
local amount = redis.call('GET', KEYS[1])
if amount == false or tonumber(amount) + tonumber(ARGV[1]) < 0 then
  return 'FAILURE'
end
local r = redis.pcall('INCRBY', KEYS[1], ARGV[1])
if type(r) == 'table' and r.err then
  return 'OVERFLOW'
end
redis.call('SET', KEYS[2], 'op', 'EX', ARGV[3])
return 'OK'
`;

// KEYS[1] the msg barrier key; ARGV[1] expiry in seconds. Absent → mark it 'rollback' (the local transaction can no
// longer commit) and report FAILURE.
const QUERY_PREPARED = `-- dtm barrier: query prepared
local v = redis.call('GET', KEYS[1])
if v == false then
  redis.call('SET', KEYS[1], 'rollback', 'EX', ARGV[1])
  return 'FAILURE'
end
if v == 'rollback' then
  return 'FAILURE'
end
return 'OK'
`;

function barrierKey(gid: string, branchId: string, op: string, barrierId: string): string {
  return `${gid}-${branchId}-${op}-${barrierId}`;
}

/** Default bound of one Redis barrier call: under dtm's default RequestTimeout (3 s) of the branch call. */
export const REDIS_WAIT_MS = 2000;

export function checkWaitMs(ms: number): number {
  if (!Number.isSafeInteger(ms) || ms <= 0)
    throw new RangeError(`barrier: redisWaitMs must be a positive integer (milliseconds), got ${ms}`);
  return ms;
}

// The script is atomic, so a call that timed out either ran entirely or not at all; if it runs late, dtm's retry
// of the branch meets its barrier key and answers 'duplicate': the amount still moves once.
async function evalWithin(
  redis: RedisEval,
  waitMs: number,
  script: string,
  numKeys: number,
  ...keysAndArgs: (string | number)[]
): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new Error(
            `barrier: Redis did not answer within ${waitMs} ms (server down, paused or overloaded?); ` +
              'the branch fails with a retriable error and dtm retries it (raise redisWaitMs if Redis is slow)',
          ),
        ),
      waitMs,
    );
  });
  try {
    return await Promise.race([redis.eval(script, numKeys, ...keysAndArgs), late]);
  } finally {
    clearTimeout(timer);
  }
}

function checkExpire(expireSeconds: number): void {
  if (!Number.isSafeInteger(expireSeconds) || expireSeconds <= 0)
    throw new RangeError(`barrier: expireSeconds must be a positive integer, got ${expireSeconds}`);
}

/**
 * Adds `amount` (negative to deduct) to the integer at `key` through the barrier, atomically:
 * - this op already passed the barrier → 'duplicate' (op `msg`: throws DtmDuplicated);
 * - a cancel/compensate/rollback whose try/action never passed → 'null-compensation' (amount untouched, whatever
 *   the balance; a late try/action will then be a 'duplicate');
 * - `key` missing, or the result would go below 0 or past int64 → throws DtmFailure (nothing changed);
 * - else the amount is applied → 'executed'.
 * Barrier keys expire after `expireSeconds`.
 */
export async function redisCheckAdjustAmount(
  bb: BarrierCore,
  redis: RedisEval,
  key: string,
  amount: number,
  expireSeconds: number,
  waitMs: number = REDIS_WAIT_MS,
): Promise<BarrierOutcome> {
  if (!Number.isSafeInteger(amount)) throw new RangeError(`barrier: amount must be an integer, got ${amount}`);
  checkExpire(expireSeconds);
  const bid = bb.newBarrierId();
  const origin = originOp(bb.op);
  const current = barrierKey(bb.gid, bb.branchId, bb.op, bid);
  const originKey = barrierKey(bb.gid, bb.branchId, origin, bid);
  const result = await evalWithin(
    redis,
    waitMs,
    CHECK_ADJUST_AMOUNT,
    3,
    key,
    current,
    originKey,
    amount,
    origin,
    expireSeconds,
  );
  switch (result) {
    case 'OK':
      return 'executed';
    case 'NULL_COMPENSATION':
      return 'null-compensation';
    case 'DUPLICATE':
      if (bb.op === OP_MSG) throw new DtmDuplicated();
      return 'duplicate';
    case 'FAILURE':
      throw new DtmFailure();
    case 'OVERFLOW':
      throw new DtmFailure(`barrier: adding ${amount} to ${key} would pass the largest int64; nothing changed`);
    default:
      throw new Error(`barrier: unexpected answer from the Redis script: ${String(result)}`);
  }
}

/** QueryPrepared of a 2-phase message on Redis: resolves when its local step committed, else throws DtmFailure. */
export async function redisQueryPrepared(
  bb: BarrierCore,
  redis: RedisEval,
  expireSeconds: number,
  waitMs: number = REDIS_WAIT_MS,
): Promise<void> {
  checkExpire(expireSeconds);
  const key = barrierKey(bb.gid, MSG_BRANCH_ID, OP_MSG, MSG_BARRIER_ID);
  const result = await evalWithin(redis, waitMs, QUERY_PREPARED, 1, key, expireSeconds);
  if (result === 'FAILURE') throw new DtmFailure();
  if (result !== 'OK') throw new Error(`barrier: unexpected answer from the Redis script: ${String(result)}`);
}
