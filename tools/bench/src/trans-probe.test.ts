import { spawn } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { tempFile } from '@dtm-gozero/devkit';
import { expect, test } from 'vitest';
import { rt } from './fixtures.ts';
import { mergeRuntime, probeScript, TransProbe } from './trans-probe.ts';

test('rounds merge: the worst delay, GC pauses summed', () => {
  expect(mergeRuntime(undefined, rt(5, 1))).toEqual(rt(5, 1));
  expect(mergeRuntime(rt(5, 1), rt(9, 0.5))).toEqual({
    loopP50Ms: 1,
    loopP99Ms: 9,
    loopMaxMs: 18,
    gcCount: 6,
    gcTotalMs: 12,
    gcMaxMs: 1,
  });
});

test('the trans probe (as the bench loads it: emitted JavaScript, --import) answers SIGUSR2 with its figures', async () => {
  const file = tempFile('runtime.json', '{"seq":0}');
  // A stand-in for trans's event loop only (the real trans under the probe: test/integration/bench.int.test.ts).
  const child = spawn(
    process.execPath,
    ['--import', pathToFileURL(probeScript()).href, '-e', 'setInterval(() => {}, 1000); console.log("up")'],
    { env: { ...process.env, BENCH_PROBE_FILE: file }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout.once('data', () => resolve());
      child.once('exit', (c) => reject(new Error(`exited ${c}`)));
    });
    const probe = new TransProbe(child.pid as number, file);
    const first = await probe.snapshot(15_000);
    const second = await probe.snapshot(15_000);
    expect(first.seq).toBe(1);
    expect(second.seq).toBe(2);
    expect(second.heapAfterGcMiB).toBeGreaterThan(0);
    expect(second.heapAfterGcMiB).toBeLessThan(64);
    // the forced GC of the first snapshot is not counted in the second window
    expect(second.gcMaxMs).toBeLessThan(first.gcMaxMs + 1000);
    expect(Object.keys(second).sort()).toEqual(
      ['gcCount', 'gcMaxMs', 'gcTotalMs', 'heapAfterGcMiB', 'loopMaxMs', 'loopP50Ms', 'loopP99Ms', 'seq'].sort(),
    );
  } finally {
    child.kill('SIGKILL');
  }
});
