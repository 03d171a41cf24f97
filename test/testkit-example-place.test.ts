// Where the READMEs tell a user of this repository to save the testkit's example is where vitest finds it: under
// test/ with the `.int.test.ts` suffix the integration project (which starts the stack and databases) picks it up,
// while a file at the root, as a user first tried (`my-dtm.test.ts`), matches no project ("No test files found").
import { readFileSync } from 'node:fs';
import { join, matchesGlob } from 'node:path';
import { root } from '@dtm-gozero/devkit';
import { expect, test } from 'vitest';
import config from '../vitest.config.ts';

type Project = { test: { name: string; include: string[]; exclude?: string[] } };
const projects = (config.test?.projects ?? []) as Project[];

/** The projects whose include globs (and not their excludes) match a path relative to the repo root. */
function projectsOf(path: string): string[] {
  return projects
    .filter((p) => p.test.include.some((g) => matchesGlob(path, g)))
    .filter((p) => !(p.test.exclude ?? []).some((g) => matchesGlob(path, g)))
    .map((p) => p.test.name);
}

test('the place the READMEs name is found by the integration project; the root is found by none', () => {
  for (const readme of ['docs/tests.md', 'docs/tests.zh-CN.md', 'libs/testkit/README.md']) {
    expect(readFileSync(join(root, readme), 'utf8'), readme).toContain('`test/my-dtm.int.test.ts`');
  }
  expect(projectsOf('test/my-dtm.int.test.ts')).toEqual(['integration']);
  expect(projectsOf('my-dtm.test.ts')).toEqual([]);
  expect(projectsOf('my-dtm.int.test.ts')).toEqual([]);
});
