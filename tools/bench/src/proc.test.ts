import { spawn } from 'node:child_process';
import { expect, test } from 'vitest';
import { comm, cpuMs, resetRssPeak, rssMiB } from './proc.ts';

/** A pid that is certainly gone: a child that has exited and been reaped. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid as number;
}

test('a busy process: its CPU time grows, its RSS and peak are read', () => {
  const before = cpuMs(process.pid) as number;
  const until = Date.now() + 200;
  while (Date.now() < until); // 200 ms on the CPU
  const after = cpuMs(process.pid) as number;
  // /proc counts in ticks of 10 ms; a loaded machine may deschedule us for part of the 200 ms
  expect(after - before).toBeGreaterThanOrEqual(50);
  const rss = rssMiB(process.pid) as number;
  expect(rss).toBeGreaterThan(10);
  expect(rssMiB(process.pid, 'VmHWM')).toBeGreaterThanOrEqual(rss);
});

test('the RSS peak starts afresh after resetRssPeak, on a child of ours', async () => {
  // the child grows by ~64 MiB, lets go of it, then waits: its peak is far above its RSS until the reset
  const child = spawn(
    process.execPath,
    [
      '--expose-gc',
      '-e',
      'let b = Buffer.alloc(64 * 2 ** 20, 1); b = null; gc(); setTimeout(() => console.log("up"), 200); setInterval(() => {}, 1000)',
    ],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout.once('data', () => resolve());
      child.once('exit', (c) => reject(new Error(`exited ${c}`)));
    });
    const pid = child.pid as number;
    expect(rssMiB(pid, 'VmHWM')).toBeGreaterThanOrEqual(64);
    resetRssPeak(pid);
    expect((rssMiB(pid, 'VmHWM') as number) - (rssMiB(pid) as number)).toBeLessThan(8);
  } finally {
    child.kill('SIGKILL');
  }
});

test("a process's name, as the bench finds dtm among a stack's processes", async () => {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  try {
    await new Promise((resolve) => child.once('spawn', resolve));
    expect(comm(child.pid as number)).toBe('sleep');
  } finally {
    child.kill('SIGKILL');
  }
});

test('a process that is gone, or none: undefined, and no throw', async () => {
  const pid = await deadPid();
  expect(cpuMs(pid)).toBeUndefined();
  expect(rssMiB(pid)).toBeUndefined();
  expect(rssMiB(undefined)).toBeUndefined();
  expect(cpuMs(undefined)).toBeUndefined();
  expect(comm(pid)).toBe('');
  expect(() => resetRssPeak(pid)).not.toThrow();
});
