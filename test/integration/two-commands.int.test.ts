import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { root } from '@dtm-gozero/devkit';
import { portOpen } from '@dtm-gozero/testkit';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

// The README's two commands, from a fresh copy of the tree (tracked and new files; no node_modules, no .cache): the
// first installs what is missing and runs the demo end to end, the second installs what is missing and runs the
// suite. Like the README test, the demo uses the fixed ports of `npm run stack:up` (etcd 2379, dtm 36789/36790) and
// trans's 50081. Heavy installs come from this machine's caches (npm's, and dtm's build in ~/.cache/dtm-gozero-ts).
const work = mkdtempSync(join(tmpdir(), 'two-commands-'));
// A PATH as on a fresh machine: without the Node 24 that this repo's ensure-node put first.
const env: NodeJS.ProcessEnv = {
  ...process.env,
  PATH: (process.env.PATH ?? '')
    .split(':')
    .filter((p) => !p.startsWith(join(root, '.cache')))
    .join(':'),
};
for (const k of Object.keys(env)) if (k.startsWith('npm_') || k === 'INIT_CWD') delete env[k];

const FIXED = [2379, 36789, 36790, 50081];
let openBefore: boolean[] = [];

beforeAll(async () => {
  const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard'], { cwd: root, encoding: 'utf8' })
    .split('\n')
    .filter((f) => f !== '' && existsSync(join(root, f)));
  for (const f of files) {
    mkdirSync(dirname(join(work, f)), { recursive: true });
    cpSync(join(root, f), join(work, f));
  }
  openBefore = await Promise.all(FIXED.map((p) => portOpen(p)));
});
afterAll(() => {
  // After a failure: what the copy's stack.sh started (pid files in its .stack/).
  if (existsSync(join(work, '.stack')))
    execFileSync('bash', ['scripts/stack.sh', 'down'], { cwd: work, stdio: 'ignore', timeout: 30_000 });
  rmSync(work, { recursive: true, force: true });
});

/** Runs a command in the copy, in a process group of its own; `onOutput` may interrupt it. */
function run(
  args: string[],
  onOutput?: (out: string, group: number) => void,
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', args, { cwd: work, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const add = (d: Buffer): void => {
      out += d.toString();
      onOutput?.(out, child.pid as number);
    };
    child.stdout.on('data', add);
    child.stderr.on('data', add);
    child.on('close', (code) => resolve({ code, out }));
  });
}

/** The fixed ports are as they were before the test: nothing the demo started is left. */
async function nothingLeft(): Promise<void> {
  expect(await Promise.all(FIXED.map((p) => portOpen(p)))).toEqual(openBefore);
  const pids = existsSync(join(work, '.stack'))
    ? readdirSync(join(work, '.stack')).filter((f) => f.endsWith('.pid'))
    : [];
  expect(pids).toEqual([]);
}

describe("the README's two commands, from a fresh copy", () => {
  test('bash scripts/demo.sh: installs, runs, shows the transcript and both gids, stops everything', async () => {
    const { code, out } = await run(['scripts/demo.sh']);
    expect(code, out).toBe(0);
    const stamp = /^\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2} /;
    expect(
      out
        .split('\n')
        .filter((l) => stamp.test(l))
        .map((l) => l.replace(stamp, '')),
    ).toEqual([
      'transfer out 30 cents from 1',
      'transfer in 30 cents to 2',
      'transfer out 30 cents from 1',
      'transfer out 30 cents from 1',
    ]);
    expect(out.split('\n').filter((l) => /^(msg|tcc) /.test(l))).toEqual([
      expect.stringMatching(/^msg \w+ succeed$/),
      expect.stringMatching(/^tcc \w+ succeed$/),
    ]);
    // It installed what was missing: Node 24 (this machine's is older) unless the machine's is new enough, and npm ci.
    expect(existsSync(join(work, 'node_modules/.package-lock.json'))).toBe(true);
    await nothingLeft();
  }, 600_000);

  test('bash scripts/demo.sh, Ctrl-C while it runs: everything it started is stopped', async () => {
    let sent = false;
    const { code, out } = await run(['scripts/demo.sh'], (o, group) => {
      if (!sent && o.includes('stack: up')) {
        sent = true;
        process.kill(-group, 'SIGINT'); // the terminal's Ctrl-C reaches the whole foreground group
      }
    });
    expect(sent, out).toBe(true);
    expect(code, out).not.toBe(0);
    expect(out).toMatch(/demo: stopped what it started/);
    await nothingLeft();
  }, 120_000);

  test('bash scripts/test.sh: installs, then runs npm test (here with one small test file), exit status included', async () => {
    const { code, out } = await run(['scripts/test.sh', 'test/readme-zh.test.ts']);
    expect(code, out).toBe(0);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: vitest colours its summary
    expect(out.replace(/\x1b\[[0-9;]*m/g, '')).toMatch(/Test Files +1 passed \(1\)\n +Tests +(\d+) passed \(\1\)/);
    // CI runs the same command.
    expect(readFileSync(join(root, '.ci/run'), 'utf8')).toMatch(/^bash scripts\/test\.sh/m);
  }, 600_000);
});
