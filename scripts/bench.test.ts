import { expect, test } from 'vitest';
import { parseOptions } from './bench.ts';

test('bench options: defaults, and bad input named with the fix', () => {
  const o = parseOptions([]);
  expect(o).toMatchObject({
    compare: false,
    levels: [1, 16, 64],
    durationS: 6,
    rounds: 1,
    mode: 'msg',
    store: 'boltdb',
    gid: 'local',
  });
  expect(parseOptions(['--gid', 'dtm']).gid).toBe('dtm');
  expect(() => parseOptions(['--gid', 'uuid'])).toThrow(/--gid uuid: want local or dtm/);
  expect(parseOptions(['--compare']).rounds).toBe(2);
  expect(() => parseOptions(['--store', 'sqlite'])).toThrow(/--store sqlite: want one of boltdb, redis, mysql/);
  expect(() => parseOptions(['--levels', '1,x'])).toThrow(/--levels x: want a number ≥ 1/);
  expect(() => parseOptions(['--mode', 'xa'])).toThrow(/--mode xa: want one of msg, tcc, saga/);
  expect(() => parseOptions(['--duration', '0'])).toThrow(/--duration 0/);
  expect(() => parseOptions(['--etcd', '127.0.0.1:2379'])).toThrow(/--etcd and --dtm go together/);
  expect(() => parseOptions(['--nope'])).toThrow(/Unknown option '--nope'[\s\S]*usage: npm run bench/);
});
