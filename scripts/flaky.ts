// The flaky-test finder: runs the test files a branch changed (against --base, default main, plus uncommitted
// changes) --times times in a row (default 3) and reports each file's passes; exit 1 when any file failed in any
// run. A test that passes once and fails the next time is a failing CI for whoever comes next, so run this before
// handing over a branch that adds or changes tests:
//   npm run flaky                       # the changed *.test.ts files, 3 runs each
//   npm run flaky -- --times 5 libs/dtmgrpc/src/msg-abort.int.test.ts
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const root = join(import.meta.dirname, '..');
const USAGE = 'usage: npm run flaky -- [--base <git ref>] [--times N] [test files…]';

/** The test files among changed paths (`git diff --name-only` lines), each once, in a stable order. */
export function testFilesOf(paths: string[]): string[] {
  return [...new Set(paths.map((p) => p.trim()).filter((p) => /\.test\.ts$/.test(p)))].sort();
}

/** The verdict over the runs: per file, how many of them passed; `ok` only when every run of every file did. */
export function verdict(files: string[], runs: Set<string>[]): { ok: boolean; lines: string[] } {
  const lines = files.map((f) => {
    const passed = runs.filter((failed) => !failed.has(f)).length;
    return `${passed === runs.length ? 'stable' : 'FLAKY '} ${passed}/${runs.length}  ${f}`;
  });
  return { ok: runs.every((failed) => failed.size === 0), lines };
}

/** The files vitest reported failing, from its JSON report. */
function failedFiles(json: string): Set<string> {
  const r = JSON.parse(json) as { testResults: { name: string; status: string }[] };
  return new Set(r.testResults.filter((t) => t.status !== 'passed').map((t) => t.name.replace(`${root}/`, '')));
}

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { base: { type: 'string', default: 'main' }, times: { type: 'string', default: '3' } },
  });
  const times = Number(values.times);
  if (!Number.isInteger(times) || times < 1 || times > 20)
    throw new Error(`--times ${JSON.stringify(values.times)} is not a whole number from 1 to 20; ${USAGE}`);
  let files = positionals;
  if (files.length === 0) {
    const git = (...args: string[]): string[] =>
      execFileSync('git', args, { cwd: root, encoding: 'utf8', timeout: 30_000 }).split('\n');
    const base = values.base as string;
    if (spawnSync('git', ['rev-parse', '--verify', '--quiet', base], { cwd: root }).status !== 0)
      throw new Error(`--base ${base} is not a git ref here; pass an existing branch or commit, e.g. --base main`);
    files = testFilesOf([...git('diff', '--name-only', `${base}...HEAD`), ...git('diff', '--name-only', 'HEAD')]);
  }
  files = files.filter((f) => existsSync(join(root, f)));
  if (files.length === 0) {
    console.log(`flaky: no test file changed against ${values.base}; nothing to run`);
    return;
  }
  console.log(`flaky: ${files.length} file(s), ${times} run(s) each:\n  ${files.join('\n  ')}`);
  const runs: Set<string>[] = [];
  for (let i = 1; i <= times; i++) {
    const dir = mkdtempSync(join(tmpdir(), `dtm-gozero-${process.pid}-`));
    const report = join(dir, 'report.json');
    let failed: Set<string>;
    try {
      const r = spawnSync(
        process.execPath,
        [
          join(root, 'node_modules/vitest/vitest.mjs'),
          'run',
          '--reporter=json',
          `--outputFile.json=${report}`,
          ...files,
        ],
        { cwd: root, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, timeout: 30 * 60_000 },
      );
      try {
        failed = failedFiles(readFileSync(report, 'utf8'));
      } catch {
        throw new Error(`vitest run ${i} gave no report (exit ${r.status}):\n${r.stderr.slice(-4000)}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    console.log(`flaky: run ${i}/${times}: ${failed.size === 0 ? 'all passed' : `failed: ${[...failed].join(', ')}`}`);
    runs.push(failed);
  }
  const v = verdict(files, runs);
  console.log(v.lines.join('\n'));
  if (!v.ok) process.exitCode = 1;
}

if (import.meta.main) {
  try {
    main();
  } catch (err) {
    console.error(`flaky: ${(err as Error).message}`);
    process.exitCode = 2;
  }
}
