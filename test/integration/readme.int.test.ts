import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, root } from '@dtm-gozero/devkit';
import { copyCheckout } from '@dtm-gozero/devkit/docker';
import { afterAll, expect, test } from 'vitest';

// Runs the README's no-Docker quick start literally, in a copy of the working tree, and checks the transcript.

/** The commands of the README's first `sh` block under "Quick start (no Docker)", with their comments. */
function quickStart(readme: string): { command: string; comment: string }[] {
  const section = readme.split('## Quick start (no Docker)')[1] ?? '';
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  return block
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const i = l.indexOf('#');
      return { command: (i < 0 ? l : l.slice(0, i)).trim(), comment: i < 0 ? '' : l.slice(i + 1).trim() };
    });
}

const steps = quickStart(readFileSync(join(root, 'README.md'), 'utf8'));
const work = mkdtempSync(join(tmpdir(), 'readme-quick-start-'));
const children: number[] = [];

afterAll(() => {
  for (const pid of children) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {}
  }
  // Also after a timeout, before the copy (and its .stack/ pid files) is gone: stop what its stack:up started.
  if (existsSync(join(work, 'scripts/stack.sh')))
    spawnSync('bash', ['scripts/stack.sh', 'down'], { cwd: work, stdio: 'ignore', timeout: 30_000 });
  rmSync(work, { recursive: true, force: true });
});

/** One README line in bash, as a user would type it after the `source` line (Node 24 first on PATH). */
const bash = (command: string): string[] => ['-c', `source scripts/ensure-node.sh >/dev/null && ${command}`];

test('the README quick start is what this test runs', () => {
  expect(steps.map((s) => s.command)).toEqual([
    'source scripts/ensure-node.sh',
    'npm ci',
    'npm run setup',
    'npm run stack:up',
    'npm run trans',
    'npm run app',
    'npm run stack:down',
  ]);
  expect(steps.find((s) => s.command === 'npm run trans')?.comment).toMatch(/^terminal 1/);
});

test('the README quick start, literally, gives the transcript', { timeout: 600_000 }, async () => {
  // A copy of the working tree (tracked and new files), sharing the git-ignored caches: Node 24 and dtm.
  copyCheckout(root, work);
  symlinkSync(join(root, '.cache'), join(work, '.cache'));

  // Unlike the other integration tests (the global setup's etcd + dtm on free ports), this one runs the README's
  // fixed-port stack (etcd 2379, dtm 36789/36790) from the copy: `npm run stack:up` starts what does not answer
  // there, and `npm run stack:down` stops exactly that (pid files in the copy's .stack/), also when a step fails.
  let transOut = '';
  let appOut = '';
  let stackUp = false;
  try {
    for (const { command } of steps) {
      if (command.startsWith('source ')) continue; // applied to every line by bash()
      if (command === 'npm run trans') {
        // "terminal 1": runs in the background until the end of the test.
        const child = spawn('bash', bash(command), { cwd: work, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
        children.push(child.pid as number);
        child.stdout.on('data', (d: Buffer) => (transOut += d.toString()));
        child.stderr.on('data', (d: Buffer) => (transOut += d.toString()));
        await eventually(
          async () => (transOut.includes('Starting rpc server at 127.0.0.1:50081...') ? true : undefined),
          30_000,
          'trans banner',
        );
        continue;
      }
      if (command === 'npm run stack:down') {
        // Stop trans first, as a user would with Ctrl-C, then run the last line.
        process.kill(-(children[0] as number), 'SIGINT');
        await eventually(async () => (transOut.includes('transfer') ? true : undefined), 1000, 'trans output');
      }
      if (command === 'npm run stack:up') stackUp = true; // from here on, even a failing `up` may have started some
      const out = execFileSync('bash', bash(command), {
        cwd: work,
        encoding: 'utf8',
        timeout: 540_000,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      if (command === 'npm run app') appOut = out;
      if (command === 'npm run stack:down') stackUp = false;
    }
  } finally {
    // The README's last line, when an earlier step failed: stop what the copy's `npm run stack:up` started.
    if (stackUp) {
      for (const pid of children.splice(0)) {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {}
      }
      // Not thrown: the step that failed is the error to report.
      const down = spawnSync('bash', ['scripts/stack.sh', 'down'], { cwd: work, encoding: 'utf8', timeout: 30_000 });
      process.stdout.write(`readme quick start: stack.sh down (status ${down.status}): ${down.stdout}${down.stderr}`);
    }
  }

  expect(appOut.split('\n').filter((l) => /^(msg|tcc) /.test(l))).toEqual([
    expect.stringMatching(/^msg \S+ succeed$/),
    expect.stringMatching(/^tcc \S+ succeed$/),
  ]);
  const lines = transOut.split('\n').filter((l) => / (transfer) /.test(l));
  expect(lines.map((l) => l.replace(/^\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2} /, ''))).toEqual([
    'transfer out 30 cents from 1',
    'transfer in 30 cents to 2',
    'transfer out 30 cents from 1',
    'transfer out 30 cents from 1',
  ]);
});
