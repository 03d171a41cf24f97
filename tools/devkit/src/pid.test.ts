import { spawnSync } from 'node:child_process';
import { expect, test } from 'vitest';
import { pidAlive } from './pid.ts';
import { start } from './procs.ts';

test('pidAlive: this process yes, an exited one no, and a zombie no (it only waits to be reaped)', async () => {
  expect(pidAlive(process.pid)).toBe(true);
  expect(pidAlive(spawnSync('true').pid as number)).toBe(false);
  // sh's background child exits at once; sh becomes `sleep`, which never reaps it: a zombie for three seconds
  const p = start('sh', 'sh', ['-c', 'sleep 0 & echo $!; exec sleep 3']);
  try {
    await p.waitFor(/^\d+$/m, 20_000);
    const zombie = Number(p.stdout().trim());
    await new Promise((r) => setTimeout(r, 500));
    expect(() => process.kill(zombie, 0)).not.toThrow();
    expect(pidAlive(zombie)).toBe(false);
  } finally {
    await p.stop();
  }
});
