// Packages meet through their names and `exports`: no file outside a library, app or tool imports its `src/` by a
// relative path (the package's own files and tests may). What still does is listed below, each with its reason.
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { root } from '@dtm-gozero/devkit';
import { expect, test } from 'vitest';
import { importsOf, tsFiles } from './support/imports.ts';

/** The package folder a repo-relative path lies in (`libs/testkit`, `apps/app`, `tools/chaos`, `proto`), if any. */
function packageOf(path: string): string | undefined {
  return /^((?:libs|apps|tools)\/[^/]+|proto)\//.exec(path)?.[1];
}

/** `importer -> imported`, both repo-relative: white-box tests of internals that have no public form. */
const ALLOWED = new Set([
  // the observability test builds the app's exporter itself, to send to the real Jaeger (i20b)
  'test/integration/observability.int.test.ts -> libs/gozero/src/trace/agent.ts',
  // the barrier property test runs trans's own server in-process, so it can crash a call between the barrier insert
  // and COMMIT (#16: a crash that only a wrapped bank.barrier can place)
  'test/property/trans-server.ts -> apps/trans/src/internal/config/config.ts',
  'test/property/trans-server.ts -> apps/trans/src/internal/server/trans-svc-server.ts',
  'test/property/trans-server.ts -> apps/trans/src/internal/svc/service-context.ts',
  // the input fuzz runs trans's own config loader (go-zero's server conf plus the bank's section) on any YAML
  'test/fuzz/inputs.test.ts -> apps/trans/src/internal/config/config.ts',
  // the image contract reads the testkit's container specs and the shared dtm config it renders
  'test/rebuild-contract.test.ts -> libs/testkit/src/docker.ts',
  'test/rebuild-contract.test.ts -> libs/testkit/src/dtm-config.ts',
]);

/** Every relative import from one package (or from outside all) into another package's files: `from -> to`. */
function crossings(sources: { file: string; text: string }[]): string[] {
  const out: string[] = [];
  for (const { file, text } of sources) {
    const from = relative(root, file);
    for (const spec of importsOf(text)) {
      if (!spec.startsWith('.')) continue;
      const to = relative(root, resolve(dirname(file), spec));
      const pkg = packageOf(to);
      if (pkg !== undefined && pkg !== packageOf(from)) out.push(`${from} -> ${to}`);
    }
  }
  return out.sort();
}

test("no file reaches into another package's sources; the few that still do are listed", () => {
  const found = crossings(tsFiles(root).map((file) => ({ file, text: readFileSync(file, 'utf8') })));
  expect(found.filter((c) => !ALLOWED.has(c))).toEqual([]);
  // an allowance whose import is gone must go too
  expect([...ALLOWED].filter((c) => !found.includes(c))).toEqual([]);
});

/**
 * Files of a library, app or tool (`libs/`, `apps/`, `tools/`) that import a file of the root `test/` folder, or name
 * one of test/support/ to run: their test support is @dtm-gozero/devkit, imported by name. (tools/fuzz names the root
 * suites it runs: that is its job.)
 */
function rootTestUses(sources: { file: string; text: string }[]): string[] {
  const out: string[] = [];
  for (const { file, text } of sources) {
    const from = relative(root, file);
    if (packageOf(from) === undefined) continue;
    for (const spec of importsOf(text)) {
      const to = relative(root, resolve(dirname(file), spec));
      if (spec.startsWith('.') && to.startsWith('test/')) out.push(`${from} -> ${to}`);
    }
    for (const m of text.matchAll(/['"`](test\/support\/[\w./-]+\.ts)['"`]/g)) out.push(`${from} -> ${m[1]}`);
  }
  return out.sort();
}

test('no library, app or tool uses the root test/ folder (its test support is @dtm-gozero/devkit)', () => {
  const files = ['libs', 'apps', 'tools'].flatMap((d) => tsFiles(join(root, d)));
  expect(files.length).toBeGreaterThan(100);
  expect(rootTestUses(files.map((file) => ({ file, text: readFileSync(file, 'utf8') })))).toEqual([]);
});

test('the check catches an import of test/support and a script run from there, and lets root tests and devkit through', () => {
  const lib = [
    "import { freePort } from '../../../../test/support/procs.ts';",
    "const script = join(root, 'test/support/workflow-service.ts');",
  ].join('\n');
  const fine = "import { freePort } from '@dtm-gozero/devkit';\nimport { bankOf } from './support/bank.ts';";
  expect(
    rootTestUses([
      { file: resolve(root, 'libs/dtmgrpc/src/workflow/workflow.int.test.ts'), text: lib },
      { file: resolve(root, 'test/integration/e2e.int.test.ts'), text: fine },
      { file: resolve(root, 'tools/devkit/src/stack.ts'), text: fine },
    ]),
  ).toEqual([
    'libs/dtmgrpc/src/workflow/workflow.int.test.ts -> test/support/procs.ts',
    'libs/dtmgrpc/src/workflow/workflow.int.test.ts -> test/support/workflow-service.ts',
  ]);
});

test("the check catches the old imports of the chaos suite, and lets a package's own files and tests through", () => {
  const old = [
    "import { TRANSFER_MODES, type Transfer, transfer } from '../apps/app/src/bank.ts';",
    "import { freePorts } from '../libs/testkit/src/ports.ts';",
    "import { x } from './lib/child.ts';",
  ].join('\n');
  const own = "import { freePorts } from './ports.ts';\nimport { dtmPing } from '../src/probe.ts';";
  const tool = "import { Cluster } from '../../chaos/src/cluster.ts';";
  expect(
    crossings([
      { file: resolve(root, 'scripts/chaos.ts'), text: old },
      { file: resolve(root, 'libs/testkit/src/index.ts'), text: own },
      { file: resolve(root, 'libs/testkit/src/stack.int.test.ts'), text: own },
      { file: resolve(root, 'tools/bench/src/main.ts'), text: tool },
    ]),
  ).toEqual([
    'scripts/chaos.ts -> apps/app/src/bank.ts',
    'scripts/chaos.ts -> libs/testkit/src/ports.ts',
    'tools/bench/src/main.ts -> tools/chaos/src/cluster.ts',
  ]);
});
