import { expect, test } from 'vitest';
import { fullGc, runtimeMonitor } from './probe.ts';

test('runtimeMonitor sees a blocked event loop and a GC pause, and reset() starts afresh', async () => {
  const m = runtimeMonitor();
  try {
    await new Promise((r) => setTimeout(r, 50));
    m.reset();
    await new Promise((r) => setTimeout(r, 25)); // the histogram drops the first interval after a reset
    const until = Date.now() + 150;
    while (Date.now() < until); // the loop blocked for 150 ms
    fullGc();
    await new Promise((r) => setTimeout(r, 50)); // gc entries and the next timer arrive
    const s = m.snapshot();
    expect(s.loopMaxMs).toBeGreaterThanOrEqual(100);
    expect(s.loopP50Ms).toBeLessThan(s.loopMaxMs); // the delay, less the timer's own 10 ms
    expect(s.gcCount).toBeGreaterThanOrEqual(1);
    expect(s.gcMaxMs).toBeGreaterThan(0);
    m.reset();
    expect(m.snapshot()).toMatchObject({ gcCount: 0, gcTotalMs: 0 });
  } finally {
    m.stop();
  }
});
