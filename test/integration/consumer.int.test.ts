// The libraries as a project outside this repository gets them: every package packed (`npm run pack`, which also
// runs `npm publish --dry-run` for each), installed with its dependencies from the registry into a fresh folder
// that has never seen this repo's node_modules, type-checked with a plain `tsc` against the published .d.ts, and
// run with a plain `node` on the emitted JavaScript (no type stripping): test/consumer/consumer.ts starts its own
// etcd + dtm with the testkit, serves a TransSvc with RpcServer registered in etcd, and runs a msg, a saga and a
// tcc through dtm to `succeed`. Then every TypeScript example of the READMEs (test/consumer/snippets.ts) is
// type-checked there as a user's file, and the runnable ones (vitest tests) are run. npm's cache keeps the installs
// fast after the first run.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { root } from '@dtm-gozero/devkit';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { allSnippetFiles } from '../consumer/snippets.ts';

const dir = mkdtempSync(join(tmpdir(), 'dtm-gozero-consumer-'));
const project = join(dir, 'consumer');
let tarballs: string[] = [];

/** Runs a command in the consumer project (or `cwd`) with a plain environment; returns its output or throws it. */
function sh(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeout?: number } = {}) {
  const env = { ...process.env, ...opts.env };
  // Nothing of the monorepo's resolution may leak in.
  delete env.NODE_OPTIONS;
  delete env.NODE_PATH;
  const r = spawnSync(cmd, args, { cwd: opts.cwd ?? project, env, encoding: 'utf8', timeout: opts.timeout ?? 300_000 });
  return { code: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}`, stdout: r.stdout ?? '' };
}

beforeAll(() => {
  const out = execFileSync(
    process.execPath,
    [join(root, 'scripts/pack-libs.ts'), '--out', join(dir, 'pack'), '--publish-dry-run'],
    { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 },
  );
  tarballs = out.trim().split('\n');
  const rootManifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    devDependencies: Record<string, string>;
  };
  const dependencies: Record<string, string> = {};
  for (const t of tarballs)
    dependencies[`@dtm-gozero/${basename(t).replace(/^dtm-gozero-|-\d+\.\d+\.\d+\.tgz$/g, '')}`] = `file:${t}`;
  cpSync(join(root, 'test/consumer'), project, { recursive: true });
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({
      name: 'dtm-gozero-consumer',
      private: true,
      type: 'module',
      dependencies,
      // The same compiler and Node types as this repo, from the registry (npm's cache when present).
      devDependencies: {
        typescript: rootManifest.devDependencies.typescript,
        '@types/node': rootManifest.devDependencies['@types/node'],
      },
    }),
  );
  const install = sh('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error']);
  if (install.code !== 0) throw new Error(`npm install in ${project} failed:\n${install.out}`);
}, 600_000);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

test('npm pack + publish --dry-run pass for every package', () => {
  expect(tarballs.map((t) => basename(t))).toEqual([
    'dtm-gozero-proto-0.1.0.tgz',
    'dtm-gozero-gozero-0.1.0.tgz',
    'dtm-gozero-dtmgrpc-0.1.0.tgz',
    'dtm-gozero-testkit-0.1.0.tgz',
  ]);
  expect(project.startsWith(root)).toBe(false);
});

test('the installed packages point at built JavaScript and declarations, and ship no tests', () => {
  for (const name of ['gozero', 'dtmgrpc', 'testkit']) {
    const pkg = join(project, 'node_modules/@dtm-gozero', name);
    const m = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(m.exports).toEqual({
      '.': { types: './dist/index.d.ts', default: './dist/index.js' },
      ...(name === 'dtmgrpc' ? { './sql/*': './sql/*' } : {}),
    });
    expect(m.private).toBeUndefined();
    expect(existsSync(join(pkg, 'dist/index.js'))).toBe(true);
    expect(existsSync(join(pkg, 'dist/index.d.ts'))).toBe(true);
    expect(existsSync(join(pkg, 'dist/index.js.map'))).toBe(true);
    expect(readFileSync(join(pkg, 'dist/index.d.ts'), 'utf8')).not.toMatch(/from '\.[^']*\.ts'/);
    expect(sh('find', [pkg, '-name', '*.test.*']).stdout).toBe('');
  }
  // The barrier DDL is reachable by its export, as the testkit's ensureBarrierTable reads it.
  const ddl = sh(process.execPath, [
    '--input-type=module',
    '-e',
    "import { createRequire } from 'node:module'; console.log(createRequire(import.meta.url).resolve('@dtm-gozero/dtmgrpc/sql/barrier.mysql.sql'))",
  ]);
  expect(ddl.code, ddl.out).toBe(0);
  expect(readFileSync(ddl.stdout.trim(), 'utf8')).toMatch(/CREATE TABLE IF NOT EXISTS dtm_barrier\.barrier/);
  // The database drivers are optional peers: none was installed, and the consumer below runs without them.
  for (const driver of ['mysql2', 'pg', 'ioredis'])
    expect(existsSync(join(project, 'node_modules', driver))).toBe(false);
});

test('plain tsc type-checks the consumer against the published .d.ts; plain node runs msg, saga and tcc to succeed', () => {
  const tsc = sh(process.execPath, [join(project, 'node_modules/typescript/bin/tsc'), '-p', '.']);
  expect(tsc.code, tsc.out).toBe(0);
  // The dtm that `npm run setup` built, handed over the way a stranger would: DTM_BIN (etcd comes from PATH).
  const run = sh(process.execPath, ['dist/consumer.js'], {
    env: { DTM_BIN: join(root, '.cache/bin/dtm') },
    timeout: 120_000,
  });
  expect(run.code, run.out).toBe(0);
  // The consumer's RpcServer logs go-zero's per-request stat lines (logx JSON) on stdout, as a go-zero service does.
  const lines = run.stdout
    .trim()
    .split('\n')
    .filter((l) => !l.startsWith('{"@timestamp"'));
  expect(lines.slice(0, 3)).toEqual([
    expect.stringMatching(/^msg \S+ succeed$/),
    expect.stringMatching(/^saga \S+ succeed$/),
    expect.stringMatching(/^tcc \S+ succeed$/),
  ]);
  expect(lines[3]).toBe(
    'calls TransOut:action TransIn:action TransOut:action TransIn:action TransOut:try TransIn:try TransInConfirm:confirm TransOutConfirm:confirm',
  );
}, 180_000);

test('a store whose driver is not installed says which package to install', () => {
  const r = sh(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      "import { startDtmStack } from '@dtm-gozero/testkit'; await startDtmStack({ backend: 'local', store: 'mysql' });",
    ],
    { env: { DTM_BIN: join(root, '.cache/bin/dtm') }, timeout: 60_000 },
  );
  expect(r.code).not.toBe(0);
  expect(r.out).toMatch(/store 'mysql' needs the mysql2 package, which is not installed: npm install mysql2/);
}, 60_000);

test('on a Node older than engines, importing a package fails with one clear message', () => {
  // A real Node 20 from the npm registry's platform package, kept in the repo's .cache after the first run.
  const old = join(root, '.cache', 'node20');
  const pkg = `node-${process.platform}-${process.arch}`;
  const node20 = join(old, 'node_modules', pkg, 'bin', 'node');
  if (!existsSync(node20)) {
    const install = sh('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--prefix', old, `${pkg}@20.19`]);
    expect(install.code, install.out).toBe(0);
  }
  expect(sh(node20, ['--version']).stdout.trim()).toMatch(/^v20\.19\./);
  for (const lib of ['gozero', 'dtmgrpc']) {
    const r = sh(node20, ['--input-type=module', '-e', `await import('@dtm-gozero/${lib}');`]);
    expect(r.code, r.out).not.toBe(0);
    expect(r.out).toMatch(
      new RegExp(`@dtm-gozero/${lib} needs Node\\.js >= 22\\.12, but this is Node\\.js 20\\.19\\.\\d+; upgrade Node`),
    );
  }
}, 120_000);

test('CommonJS code can require() the packages (Node >= 22.12 loads ES modules through require)', () => {
  for (const lib of ['gozero', 'dtmgrpc', 'testkit']) {
    const r = sh(process.execPath, ['-e', `console.log(Object.keys(require('@dtm-gozero/${lib}')).length)`]);
    expect(r.code, r.out).toBe(0);
    expect(Number(r.stdout.trim()), lib).toBeGreaterThan(5);
  }
});

// Runs last: it installs what the examples import (mysql2, @grpc/grpc-js, vitest), which the tests above check is
// not needed by the packages themselves.
test("every README's TypeScript example type-checks against the packed packages; the runnable ones pass", () => {
  const files = allSnippetFiles(root);
  expect(files.map((f) => f.path)).toEqual(
    expect.arrayContaining(['dtmgrpc/dtmgrpc-examples.ts', 'gozero/client.ts', 'testkit/test/transfer.test.ts']),
  );
  const snippets = join(project, 'snippets');
  for (const f of files) {
    mkdirSync(dirname(join(snippets, f.path)), { recursive: true });
    writeFileSync(join(snippets, f.path), f.text);
  }
  const manifests = ['libs/testkit', 'libs/dtmgrpc', '.'].map(
    (d) =>
      JSON.parse(readFileSync(join(root, d, 'package.json'), 'utf8')) as {
        dependencies?: Record<string, string>;
        devDependencies?: Record<string, string>;
      },
  );
  const version = (pkg: string): string => {
    for (const m of manifests) {
      const v = m.dependencies?.[pkg] ?? m.devDependencies?.[pkg];
      if (v) return `${pkg}@${v}`;
    }
    throw new Error(`no version of ${pkg} in the repo's manifests`);
  };
  const install = sh('npm', [
    'install',
    '--no-audit',
    '--no-fund',
    '--prefer-offline',
    '--loglevel=error',
    ...['mysql2', '@grpc/grpc-js', 'vitest'].map(version),
  ]);
  expect(install.code, install.out).toBe(0);
  writeFileSync(
    join(snippets, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2023',
        lib: ['ES2023'],
        module: 'nodenext',
        moduleResolution: 'nodenext',
        types: ['node'],
        strict: true,
        noEmit: true,
        skipLibCheck: true,
      },
      include: ['**/*.ts'],
    }),
  );
  const tsc = sh(process.execPath, [join(project, 'node_modules/typescript/bin/tsc'), '-p', 'snippets']);
  expect(tsc.code, tsc.out).toBe(0);
  const runnable = files.filter((f) => f.runnable).map((f) => join('snippets', f.path));
  expect(runnable.length).toBeGreaterThanOrEqual(3);
  const vitest = sh(
    process.execPath,
    [
      join(project, 'node_modules/vitest/vitest.mjs'),
      'run',
      '--hookTimeout=180000',
      '--testTimeout=60000',
      ...runnable,
    ],
    { env: { DTM_BIN: join(root, '.cache/bin/dtm'), DTM_TESTKIT_BACKEND: 'local', CI: '1' }, timeout: 400_000 },
  );
  expect(vitest.code, vitest.out).toBe(0);
  expect(stripVTControlCharacters(vitest.out)).toMatch(new RegExp(`Test Files\\s+${runnable.length} passed`));
}, 600_000);
