import { afterEach, describe, expect, test } from 'vitest';
import { contentJson, formatLogxLine, logxTimestamp, setLogTraceHook, setupLogx } from './logx.ts';

const d = new Date(2024, 0, 2, 3, 4, 5, 67);

afterEach(() => {
  setupLogx();
  setLogTraceHook(undefined);
});

describe("logx's line formats", () => {
  test("json (go-zero's default): logx's keys, sorted as Go marshals the map, duration as ReprOfDuration", () => {
    setupLogx();
    const line = formatLogxLine('info', '127.0.0.1:5 - /a.B/C - {"x":1}', { caller: 'c.go', durationMs: 0.34 }, d);
    expect(line.endsWith('\n')).toBe(true);
    expect(Object.keys(JSON.parse(line))).toEqual(['@timestamp', 'caller', 'content', 'duration', 'level']);
    expect(JSON.parse(line)).toEqual({
      '@timestamp': logxTimestamp(d),
      caller: 'c.go',
      content: '127.0.0.1:5 - /a.B/C - {"x":1}',
      duration: '0.3ms',
      level: 'info',
    });
    expect(logxTimestamp(d)).toMatch(/^2024-01-02T03:04:05\.067(Z|[+-]\d\d:\d\d)$/);
  });

  test('trace and span come from the tracing hook, and are absent without a span', () => {
    setLogTraceHook(() => ({ trace: 'a'.repeat(32), span: 'b'.repeat(16) }));
    expect(JSON.parse(formatLogxLine('slow', 'x', {}, d))).toMatchObject({
      trace: 'a'.repeat(32),
      span: 'b'.repeat(16),
    });
    setLogTraceHook(() => undefined);
    expect(Object.keys(JSON.parse(formatLogxLine('slow', 'x', {}, d)))).toEqual(['@timestamp', 'content', 'level']);
  });

  test('plain: timestamp, level, content and key=value, tab-separated', () => {
    setupLogx({ Encoding: 'plain' });
    expect(formatLogxLine('error', 'fail - x', { caller: 'c.go', durationMs: 12 }, d)).toBe(
      `${logxTimestamp(d)}\terror\tfail - x\tcaller=c.go\tduration=12.0ms\n`,
    );
  });

  test('MaxContentLength cuts and marks truncated; FieldKeys rename', () => {
    setupLogx({ MaxContentLength: 3, FieldKeys: { ContentKey: 'msg', TruncatedKey: 'cut' } });
    expect(JSON.parse(formatLogxLine('info', 'abcdef', {}, d))).toMatchObject({ msg: 'abc', cut: true });
  });
});

test('requests in stat lines: int64 as a number when exact, as Go marshals it', () => {
  expect(contentJson({ Amount: 30n, UserID: 1n })).toBe('{"Amount":30,"UserID":1}');
  expect(contentJson({ big: 2n ** 63n - 1n })).toBe('{"big":"9223372036854775807"}');
});
