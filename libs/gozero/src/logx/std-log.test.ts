import { afterEach, expect, test, vi } from 'vitest';
import { formatLogLine, logPrintf, stdPrefix } from './std-log.ts';

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

test('the prefix is Go log.LstdFlags in local time', () => {
  expect(stdPrefix(new Date(2021, 11, 3, 15, 44, 5))).toBe('2021/12/03 15:44:05 ');
  expect(stdPrefix(new Date(2026, 0, 9, 7, 8, 9))).toBe('2026/01/09 07:08:09 ');
});

test('a line is prefix, message, exactly one newline', () => {
  const d = new Date(2021, 11, 3, 15, 44, 5);
  expect(formatLogLine('transfer out %d cents from %d', [30, 1], d)).toBe(
    '2021/12/03 15:44:05 transfer out 30 cents from 1\n',
  );
  expect(formatLogLine('already ends\n', [], d)).toBe('2021/12/03 15:44:05 already ends\n');
});

test('logPrintf writes to stderr, as Go’s log package does', () => {
  vi.useFakeTimers();
  vi.setSystemTime(new Date(2021, 11, 3, 15, 44, 5));
  const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  logPrintf('transfer in %d cents to %d', 30, 2);
  expect(write).toHaveBeenCalledWith('2021/12/03 15:44:05 transfer in 30 cents to 2\n');
});
