import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { expect, test } from 'vitest';
import { pidAlive } from './pid.ts';

test('pidAlive: this process yes, an exited one no, and a zombie no (it only waits to be reaped)', async () => {
  expect(pidAlive(process.pid)).toBe(true);
  expect(pidAlive(spawnSync('true').pid as number)).toBe(false);
  // sh's background child exits at once; sh becomes `sleep`, which never reaps it: a zombie for three seconds
  const p = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 3'], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const [line] = (await Promise.race([
      once(p.stdout, 'data'),
      new Promise((_, reject) => setTimeout(() => reject(new Error('sh printed no pid within 20 s')), 20_000)),
    ])) as [Buffer];
    const zombie = Number(line.toString().trim());
    await new Promise((r) => setTimeout(r, 500));
    expect(() => process.kill(zombie, 0)).not.toThrow();
    expect(pidAlive(zombie)).toBe(false);
  } finally {
    p.kill('SIGKILL');
  }
});
