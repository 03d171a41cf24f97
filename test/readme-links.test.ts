// The libraries' READMEs link their API tables to the source files: every relative link of those READMEs names a
// file that exists (a moved or renamed module must take its links along), and every row of an API table links one.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { root } from '@dtm-gozero/devkit';
import { expect, test } from 'vitest';

const LIBS = ['gozero', 'dtmgrpc', 'testkit', 'bank'] as const;

/** The relative links of a Markdown file whose target file does not exist. */
function brokenLinks(file: string): string[] {
  const targets = [...readFileSync(file, 'utf8').matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => (m[1] as string).split('#')[0] as string)
    .filter((t) => t && !/^[a-z]+:/.test(t));
  return targets.filter((t) => !existsSync(join(dirname(file), t)));
}

test.each(LIBS)('libs/%s/README.md: relative links name existing files; each API table row links its source', (lib) => {
  const file = join(root, 'libs', lib, 'README.md');
  const text = readFileSync(file, 'utf8');
  expect(brokenLinks(file)).toEqual([]);
  const lines = text.split('\n');
  const start = lines.findIndex((l) => /^\|\s*(?:export|API)\s*\|/.test(l));
  const rows: string[] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(line);
  }
  expect(rows.length).toBeGreaterThan(5);
  expect(rows.filter((r) => !/^\|[^|]*\]\(src\/[^)]+\.ts\)/.test(r))).toEqual([]);
});

test('README.md, README.zh-CN.md and every docs/ page: relative links name existing files', () => {
  const pages = readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`);
  expect(pages).toContain('docs/bank.zh-CN.md');
  for (const page of ['README.md', 'README.zh-CN.md', ...pages])
    expect(brokenLinks(join(root, page)), page).toEqual([]);
});

test('tools/*/README (both languages): relative links name existing files, and the module table lists every module', () => {
  const tools = readdirSync(join(root, 'tools'));
  expect(tools).toContain('chaos');
  for (const tool of tools) {
    for (const name of ['README.md', 'README.zh-CN.md']) {
      const file = join(root, 'tools', tool, name);
      expect(brokenLinks(file), file).toEqual([]);
      const linked = [...readFileSync(file, 'utf8').matchAll(/\]\((src\/[^)#]+\.ts)\)/g)].map((m) => m[1]);
      const modules = readdirSync(join(root, 'tools', tool, 'src'))
        .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
        .map((f) => `src/${f}`);
      expect(
        modules.filter((m) => !linked.includes(m)),
        `${file}: modules without a row`,
      ).toEqual([]);
    }
  }
});
