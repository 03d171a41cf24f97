import { afterEach, expect, test } from 'vitest';
import { type Proc, start as startProc } from './procs.ts';

// Every process a test starts is stopped afterwards, even when an assertion failed first.
const started: Proc[] = [];
const start = (...args: Parameters<typeof startProc>): Proc => {
  const p = startProc(...args);
  started.push(p);
  return p;
};
afterEach(async () => {
  await Promise.all(started.splice(0).map((p) => p.stop(500)));
});

// The runner merges the tests' runNode/runCommand and the scripts' start: these pin what each of them got wrong.

test('a command that cannot start is named at once, not after the whole wait', async () => {
  const p = start('missing', 'no-such-command-dtm-gozero', []);
  const t0 = Date.now();
  await expect(p.exited(20_000)).rejects.toThrow(/missing: cannot start no-such-command-dtm-gozero: .*ENOENT/);
  expect(Date.now() - t0).toBeLessThan(10_000);
  await expect(p.waitFor(/never/, 20_000)).rejects.toThrow(/exited .* before printing/);
});

test('a process that exits while a child of its own keeps the pipes open counts as exited', async () => {
  // `sleep 5 &` inherits stdout: the pipe stays open five seconds after sh exits
  const p = start('sh', 'sh', ['-c', 'sleep 5 & echo started; exit 3']);
  const t0 = Date.now();
  expect(await p.exited(4500)).toBe(3);
  expect(Date.now() - t0).toBeLessThan(4500);
  expect(p.stdout()).toBe('started\n');
});

test('output written just before the exit is all there once exited resolves', async () => {
  const p = start('node', process.execPath, ['-e', "process.stdout.write('x'.repeat(300_000)); process.exitCode = 4"]);
  expect(await p.exited(20_000)).toBe(4);
  expect(p.stdout()).toHaveLength(300_000);
});

test('waitFor: resolves on a match in either stream, rejects when the process ends first or the time is up', async () => {
  const p = start('node', process.execPath, ['-e', "console.error('ready'); setTimeout(() => {}, 60_000)"]);
  await p.waitFor(/^ready$/m, 20_000);
  await expect(p.waitFor(/never/, 300)).rejects.toThrow(
    /node: did not print \/never\/ within 300 ms\nstdout:\n\nstderr:\nready/,
  );
  await p.stop();
  expect(p.child.signalCode).toBe('SIGTERM');
  const q = start('sh', 'sh', ['-c', 'echo bye; exit 2']);
  await expect(q.waitFor(/never/, 20_000)).rejects.toThrow(/sh exited \(2\) before printing \/never\/\nstdout:\nbye/);
});

test('stop: SIGKILL after the grace when SIGTERM is ignored; keep: only the tail of a long output', async () => {
  const p = start(
    'stubborn',
    process.execPath,
    [
      '-e',
      "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000); console.log('x'.repeat(5000)); console.log('up')",
    ],
    { keep: 100 },
  );
  await p.waitFor(/up/, 20_000);
  expect(p.stdout().length).toBeLessThanOrEqual(200);
  await p.stop(500);
  expect(p.child.signalCode).toBe('SIGKILL');
});
