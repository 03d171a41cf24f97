import { status } from '@grpc/grpc-js';
import { describe, expect, test } from 'vitest';
import { acceptable } from '../zrpc/codes.ts';
import { GoogleBreaker } from './google-breaker.ts';

function breaker(rand = 0) {
  let now = 1000;
  let r = rand;
  const b = new GoogleBreaker({ now: () => now, random: () => r });
  return {
    b,
    at: (ms: number) => {
      now = ms;
    },
    rand: (x: number) => {
      r = x;
    },
  };
}

describe("the Google SRE breaker, go-zero's googleBreaker", () => {
  test('lets everything through while the callee answers', () => {
    const { b } = breaker(0);
    for (let i = 0; i < 1000; i++) {
      expect(b.allow()).toBe(true);
      b.markSuccess();
    }
  });

  test('the first 5 failures are protected (go-zero protection = 5), then it drops', () => {
    const { b } = breaker(0);
    for (let i = 0; i < 5; i++) b.markFailure();
    expect(b.allow()).toBe(true); // (5 - 5 - 0) / 6 = 0
    b.markFailure();
    expect(b.allow()).toBe(false); // (6 - 5) / 7 > 0 and random 0 < it
  });

  test("drop ratio = (total − 5 − k·accepts) / (total + 1), k = 1.5: go-zero's formula at its boundary", () => {
    // one bucket with 10 successes and 30 failures: (40 − 5 − 15) / 41 = 0.4878…
    const { b, rand } = breaker();
    for (let i = 0; i < 10; i++) b.markSuccess();
    for (let i = 0; i < 30; i++) b.markFailure();
    rand(0.4877);
    expect(b.allow()).toBe(false); // counted as a drop: total 41 now
    // (41 − 5 − 15) / 42 = 0.5
    rand(0.5);
    expect(b.allow()).toBe(true);
    rand(0.4999);
    expect(b.allow()).toBe(false);
  });

  test('k falls towards 1.1 over a run of failing buckets, and working buckets scale the ratio down', () => {
    const { b, at } = breaker();
    // 20 buckets of 250 ms, each with 1 success then 3 failures: no failing run (successes), no working run
    for (let i = 0; i < 20; i++) {
      at(1000 + i * 250);
      b.markSuccess();
      b.markFailure();
      b.markFailure();
      b.markFailure();
    }
    expect(b.history()).toEqual({ accepts: 20, total: 80, failingBuckets: 0, workingBuckets: 0 });
    // 4 more buckets with failures only: failingBuckets 4, k = 1.5 − 0.4 · 4/40 = 1.46
    for (let i = 20; i < 24; i++) {
      at(1000 + i * 250);
      b.markFailure();
    }
    expect(b.history()).toMatchObject({ failingBuckets: 4, workingBuckets: 0 });
    // then 2 buckets of successes only: workingBuckets 2, failing run over
    for (let i = 24; i < 26; i++) {
      at(1000 + i * 250);
      b.markSuccess();
    }
    expect(b.history()).toEqual({ accepts: 22, total: 86, failingBuckets: 0, workingBuckets: 2 });
  });

  test('the window is 10 s: old failures expire', () => {
    const { b, at } = breaker(0);
    for (let i = 0; i < 100; i++) b.markFailure();
    expect(b.allow()).toBe(false);
    at(1000 + 10_000);
    expect(b.history().total).toBe(0);
    expect(b.allow()).toBe(true);
  });

  test('once dropping, one request passes at least every second (forcePassDuration)', () => {
    const { b, at, rand } = breaker();
    for (let i = 0; i < 100; i++) b.markFailure();
    rand(0.99); // a pass on the dice sets lastPass
    at(1100);
    expect(b.allow()).toBe(true);
    rand(0);
    at(1500);
    expect(b.allow()).toBe(false);
    at(2101); // more than 1 s after the last pass
    expect(b.allow()).toBe(true);
    expect(b.allow()).toBe(false);
  });
});

describe("go-zero's acceptable codes", () => {
  test('only the callee failing counts against it: not dtm’s ABORTED (FAILURE) or FAILED_PRECONDITION (ONGOING)', () => {
    for (const c of [status.ABORTED, status.FAILED_PRECONDITION, status.NOT_FOUND, status.INVALID_ARGUMENT]) {
      expect(acceptable(c), status[c]).toBe(true);
    }
    expect(acceptable(undefined)).toBe(true);
    for (const c of [
      status.DEADLINE_EXCEEDED,
      status.INTERNAL,
      status.UNAVAILABLE,
      status.DATA_LOSS,
      status.UNIMPLEMENTED,
      status.RESOURCE_EXHAUSTED,
    ]) {
      expect(acceptable(c), status[c]).toBe(false);
    }
  });
});
