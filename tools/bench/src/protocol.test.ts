import { expect, test } from 'vitest';
import { validRequest, xaUsers } from './protocol.ts';

test('xa loops move money between accounts of their own: loop 0 → users 1, 2; loop 1 → 3, 4', () => {
  expect(xaUsers(0)).toEqual([1n, 2n]);
  expect(xaUsers(1)).toEqual([3n, 4n]);
  const all = Array.from({ length: 64 }, (_, i) => xaUsers(i)).flat();
  expect(new Set(all).size).toBe(128);
});

test('a level request is checked before the worker runs it', () => {
  const ok = { mode: 'msg', concurrency: 16, durationMs: 5000, busi: 'etcd://127.0.0.1:2379/trans' } as const;
  expect(validRequest(ok)).toBe(true);
  expect(validRequest({ ...ok, gid: 'dtm' })).toBe(true);
  expect(validRequest({ ...ok, mode: 'at' as 'msg' })).toBe(false);
  expect(validRequest({ ...ok, concurrency: 0 })).toBe(false);
  expect(validRequest({ ...ok, durationMs: Number.NaN })).toBe(false);
  expect(validRequest({ ...ok, busi: '' })).toBe(false);
  expect(validRequest({ ...ok, gid: 'uuid' as 'dtm' })).toBe(false);
  expect(validRequest({})).toBe(false);
});
