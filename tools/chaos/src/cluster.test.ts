import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pidAlive } from '@dtm-gozero/devkit';
import { expect, test } from 'vitest';
import { stopRecorded } from './cluster.ts';

// `npm run cluster:down` took ~13 s without a word (trans drains for ~5 s): it now says each process it stopped, as
// it goes. Two real processes of this test's own stand for the recorded ones.
test('cluster:down says each process it stops, with what it was and how long it took', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dtm-gozero-cluster-down-'));
  try {
    const kids = [spawn('sleep', ['30']), spawn('sleep', ['30'])];
    const pids = kids.map((k) => k.pid as number);
    writeFileSync(join(dir, 'pids.json'), JSON.stringify({ pids: [...pids, 2 ** 22 + 1] }));
    const lines: string[] = [];
    expect(await stopRecorded(dir, (l) => lines.push(l))).toBe(2);
    expect(lines).toEqual([
      expect.stringMatching(new RegExp(`^cluster: 1/3 sleep \\(pid ${pids[0]}\\) stopped in \\d+\\.\\d s$`)),
      expect.stringMatching(new RegExp(`^cluster: 2/3 sleep \\(pid ${pids[1]}\\) stopped in \\d+\\.\\d s$`)),
      `cluster: 3/3 pid ${2 ** 22 + 1} already gone`,
    ]);
    for (const pid of pids) expect(pidAlive(pid)).toBe(false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
