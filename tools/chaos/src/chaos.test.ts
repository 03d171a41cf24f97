import type { Transfer } from '@dtm-gozero/app/transfer';
import { describe, expect, test } from 'vitest';
import { parseOptions } from './options.ts';
import { chaosPlan } from './schedule.ts';
import { type Evidence, judge } from './verdict.ts';

// The chaos suite's verdict on crafted evidence: each kind of violation is counted, a clean run has none.
const t: Transfer = { from: 1n, to: 2n, amount: 30n, mode: 'saga' };
const ok = (): Evidence => ({
  plans: new Map([
    ['g1', t],
    ['g2', { ...t, mode: 'tcc' }],
  ]),
  statuses: new Map([
    ['g1', 'succeed'],
    ['g2', 'failed'],
  ]),
  ledger: [
    { gid: 'g1', branchId: '01', op: 'action', user: 1n, delta: -30n },
    { gid: 'g1', branchId: '02', op: 'action', user: 2n, delta: 30n },
    // a failed TCC: the try's debit, then the cancel's credit back
    { gid: 'g2', branchId: '01', op: 'try', user: 1n, delta: -30n },
    { gid: 'g2', branchId: '01', op: 'cancel', user: 1n, delta: 30n },
  ],
  barrier: [
    { gid: 'g1', branchId: '01', op: 'action', reason: 'action' },
    { gid: 'g1', branchId: '02', op: 'action', reason: 'action' },
    { gid: 'g2', branchId: '01', op: 'try', reason: 'try' },
    { gid: 'g2', branchId: '01', op: 'cancel', reason: 'cancel' },
  ],
  balances: new Map([
    [1n, 70n],
    [2n, 130n],
  ]),
  accounts: [1n, 2n],
  totalBefore: 200n,
});

describe('chaos verdict', () => {
  test('a clean run has no violation', () => {
    const v = judge(ok());
    expect(v.violations).toEqual([]);
    expect([v.lost, v.doubled, v.unguarded, v.unfinished, v.negative, v.conserved]).toEqual([0, 0, 0, 0, 0, true]);
    expect([v.succeeded, v.failed]).toEqual([1, 1]);
  });

  test('a credit applied twice is doubled', () => {
    const e = ok();
    e.ledger.push({ gid: 'g1', branchId: '02', op: 'action', user: 2n, delta: 30n });
    expect(judge(e).doubled).toBe(1);
  });

  test('a succeeded transfer whose credit never landed is lost', () => {
    const e = ok();
    e.ledger.splice(1, 1);
    expect(judge(e).lost).toBe(1);
  });

  test('a failed transfer whose debit was never given back is lost', () => {
    const e = ok();
    e.ledger.splice(3, 1);
    expect(judge(e).lost).toBe(1);
  });

  test('a balance change without its barrier row is unguarded', () => {
    const e = ok();
    e.barrier.splice(0, 1);
    expect(judge(e).unguarded).toBe(1);
  });

  test('a transaction dtm has not finished is unfinished', () => {
    const e = ok();
    e.statuses.set('g1', 'submitted');
    expect(judge(e).unfinished).toBe(1);
  });

  test('a balance below zero, and a sum that moved', () => {
    const e = ok();
    e.balances.set(1n, -5n);
    const v = judge(e);
    expect(v.negative).toBe(1);
    expect(v.conserved).toBe(false);
  });
});

describe('chaos flags', () => {
  test("dtm's resetCronTime is on unless --no-reset-cron", () => {
    expect(parseOptions([]).resetCron).toBe(true);
    expect(parseOptions(['--no-reset-cron']).resetCron).toBe(false);
  });

  test('a bad number names the flag', () => {
    expect(() => parseOptions(['--transfers', 'many'])).toThrow(/--transfers "many"/);
  });
});

describe('chaos schedule', () => {
  // The faults must hit running transfers: each fires by time inside the span the transfers are paced over, and
  // the etcd outage ends before that span does (before, they fired by transfer count and came after the transfers).
  test.each([
    { kills: 3, dtmRestarts: 1, etcdOutage: 12 },
    { kills: 20, dtmRestarts: 2, etcdOutage: 15 },
    { kills: 0, dtmRestarts: 0, etcdOutage: 0 },
    { kills: 1, dtmRestarts: 5, etcdOutage: 60 },
  ])('every fault of %o lies within the span the transfers last', (o) => {
    const { spanMs, events } = chaosPlan(o);
    expect(events.filter((e) => e.what === 'kill')).toHaveLength(o.kills);
    expect(events.filter((e) => e.what === 'dtm')).toHaveLength(o.dtmRestarts);
    expect(events.filter((e) => e.what === 'etcd')).toHaveLength(o.etcdOutage > 0 ? 1 : 0);
    expect(events.map((e) => e.atMs)).toEqual([...events.map((e) => e.atMs)].sort((a, b) => a - b));
    for (const e of events) {
      expect(e.atMs).toBeGreaterThan(0);
      const lasts = e.what === 'etcd' ? o.etcdOutage * 1000 : e.what === 'dtm' ? 3000 : 2000;
      expect(e.atMs + lasts, `${e.what} at ${e.atMs} ms`).toBeLessThanOrEqual(spanMs);
    }
    // kills spread out: no two within 2 s of each other, so each restart is done before the next kill is due
    const kills = events.filter((e) => e.what === 'kill').map((e) => e.atMs);
    for (let i = 1; i < kills.length; i++)
      expect((kills[i] as number) - (kills[i - 1] as number)).toBeGreaterThanOrEqual(2000);
  });
});
