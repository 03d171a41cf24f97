// `npm run fuzz -- --runs N [--seed S] [--path P] [test files…]`: the property, fuzz and hostile suites with N cases
// per property instead of CI's few, against the same real servers (etcd, dtm, MariaDB, PostgreSQL, Redis started on
// free ports by the integration global setup). Prints the seed first, and at the end the seed and path of every
// failure with the command that replays it.
import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import { failedFiles, failures, parseFuzzArgs } from './args.ts';

const ROOT = join(import.meta.dirname, '..', '..');

async function main(): Promise<number> {
  const args = parseFuzzArgs(process.argv.slice(2), () => randomInt(-(2 ** 31), 2 ** 31 - 1));
  process.stdout.write(
    `fuzz: ${args.runs} runs per property, seed ${args.seed}${args.path ? `, path ${args.path}` : ''}\n`,
  );
  const vitest = join(ROOT, 'node_modules', 'vitest', 'vitest.mjs');
  const child = spawn(
    process.execPath,
    [vitest, 'run', '--project', 'unit', '--project', 'integration', ...args.files],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        FUZZ_RUNS: String(args.runs),
        FUZZ_SEED: String(args.seed),
        ...(args.path ? { FUZZ_PATH: args.path } : {}),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.on('data', (d: Buffer) => {
    output += d.toString();
    process.stdout.write(d);
  });
  child.stderr.on('data', (d: Buffer) => {
    output += d.toString();
    process.stderr.write(d);
  });
  const stop = (sig: NodeJS.Signals) => child.kill(sig);
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)));
  const files = failedFiles(output);
  // with one failing file the replay command is complete; with several, each failure belongs to one of them
  const file = files.length === 1 ? files[0] : '<its test file>';
  for (const f of failures(output)) {
    process.stdout.write(
      `fuzz: a property failed with seed ${f.seed}, path ${f.path}; replay it: ` +
        `npm run fuzz -- --runs ${args.runs} --seed ${f.seed} --path ${f.path} ${file}\n`,
    );
  }
  if (files.length > 0) process.stdout.write(`fuzz: failed test files: ${files.join(', ')}\n`);
  process.stdout.write(
    code === 0
      ? `fuzz: passed (${args.runs} runs per property, seed ${args.seed})\n`
      : `fuzz: FAILED (exit ${code}; seed ${args.seed}: npm run fuzz -- --runs ${args.runs} --seed ${args.seed} runs the same cases again)\n`,
  );
  return code;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`fuzz: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(2);
  },
);
