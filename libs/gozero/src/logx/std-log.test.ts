import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, expect, test, vi } from 'vitest';
import { flushLog, formatLogLine, logPrintf, stdPrefix } from './std-log.ts';

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
  flushLog();
  expect(write).toHaveBeenCalledWith('2021/12/03 15:44:05 transfer in 30 cents to 2\n');
});

test('lines logged in one event-loop turn go out in one write, in order, at the end of that turn', async () => {
  const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  logPrintf('one');
  logPrintf('two %d', 2);
  expect(write).not.toHaveBeenCalled();
  await new Promise((r) => setImmediate(r));
  expect(write).toHaveBeenCalledTimes(1);
  expect(String(write.mock.calls[0]?.[0])).toMatch(/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d one\n\d{4}\S+ \S+ two 2\n$/);
  logPrintf('three');
  await new Promise((r) => setImmediate(r));
  expect(write).toHaveBeenCalledTimes(2);
});

test('a large burst is written at once, without waiting for the turn to end', () => {
  const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  const long = 'x'.repeat(1000);
  for (let i = 0; i < 70; i++) logPrintf('%s', long);
  expect(write).toHaveBeenCalledTimes(1);
  flushLog();
  expect(write).toHaveBeenCalledTimes(2);
  const written = write.mock.calls.map((c) => String(c[0])).join('');
  expect(written.split('\n').filter((l) => l.endsWith(long))).toHaveLength(70);
});

test('lines still pending when the process exits are written (process.exit right after logging)', () => {
  const code = `import { logPrintf } from ${JSON.stringify(join(import.meta.dirname, 'std-log.ts'))};
    logPrintf('last words %d', 1); logPrintf('and more'); process.exit(3);`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', timeout: 20_000 });
  expect(r.status).toBe(3);
  expect(r.stderr).toMatch(/ last words 1\n.* and more\n$/);
});
