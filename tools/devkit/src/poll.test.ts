import { expect, test } from 'vitest';
import { eventually, until } from './poll.ts';

test('eventually: the first value other than undefined; a throw counts as not yet', async () => {
  let n = 0;
  const v = await eventually(
    async () => {
      n++;
      if (n === 1) throw new Error('not up');
      return n >= 3 ? `after ${n}` : undefined;
    },
    20_000,
    'three tries',
  );
  expect(v).toBe('after 3');
});

test('eventually and until give up after the bound, naming what they waited for and the last error', async () => {
  await expect(
    eventually(
      async () => {
        throw new Error('connection refused');
      },
      300,
      'dtm answers',
    ),
  ).rejects.toThrow(/dtm answers: not reached within 300 ms \(last error: connection refused\)/);
  await expect(until(() => false, 300, 'never true')).rejects.toThrow(/never true: not reached within 300 ms/);
  expect(await until(() => true, 300, 'at once')).toBeLessThan(300);
});
