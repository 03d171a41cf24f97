import { start } from '@dtm-gozero/devkit';
import { expect, test } from 'vitest';
import { Worker } from './workers.ts';

/** A line-protocol peer: answers each stdin line with {"echo": <it>}; "die" makes it exit 3, "mute" answer nothing. */
const PEER = `
console.log('ready');
require('node:readline').createInterface({ input: process.stdin }).on('line', (l) => {
  if (l.includes('die')) { console.error('dying as asked'); process.exit(3); }
  if (!l.includes('mute')) console.log(JSON.stringify({ echo: JSON.parse(l) }));
});`;

function peer(): Worker {
  return new Worker(start('peer', process.execPath, ['-e', PEER]), 'ts');
}

test('a worker: "ready", then one answer per request, in order; stop() ends it by closing stdin', async () => {
  const w = peer();
  try {
    expect(await w.next(30_000)).toBe('ready');
    expect(await w.request<{ echo: unknown }>({ n: 1 }, 30_000)).toEqual({ echo: { n: 1 } });
    expect(await w.request<{ echo: unknown }>({ n: 2 }, 30_000)).toEqual({ echo: { n: 2 } });
  } finally {
    await w.stop();
  }
  expect(w.child.child.exitCode).toBe(0);
});

test('a worker that does not answer in time, or dies: an error naming it, never a hang', async () => {
  const w = peer();
  try {
    await w.next(30_000);
    const t0 = Date.now();
    await expect(w.request({ mute: true }, 500)).rejects.toThrow(/^peer: no answer within 500 ms/);
    expect(Date.now() - t0).toBeLessThan(5000);
    await expect(w.request({ die: true }, 30_000)).rejects.toThrow(/^peer exited/);
  } finally {
    await w.stop();
  }
});
