// The libraries' READMEs link their API tables to the source files: every relative link of those READMEs names a
// file that exists (a moved or renamed module must take its links along), and every row of an API table links one.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { root } from '@dtm-gozero/devkit';
import { expect, test } from 'vitest';

const LIBS = ['gozero', 'dtmgrpc', 'testkit', 'bank'] as const;

/** GitHub's anchors of a Markdown file: its headings' slugs (numbered when repeated) and its `<a id="…">`s. */
function anchors(file: string): Set<string> {
  const out = new Set<string>();
  const seen = new Map<string, number>();
  let fence = false;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.startsWith('```')) fence = !fence;
    for (const a of line.matchAll(/<a (?:id|name)="([^"]+)"/g)) out.add(a[1] as string);
    const h = fence ? null : /^#{1,6}\s+(.*)$/.exec(line);
    if (!h) continue;
    const slug = (h[1] as string)
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    out.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return out;
}

/** The relative links of a Markdown file whose target file, or the heading it points at, does not exist. */
function brokenLinks(file: string): string[] {
  const links = [...readFileSync(file, 'utf8').matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1] as string)
    .filter((t) => !/^[a-z]+:/.test(t));
  return links.filter((link) => {
    const [path = '', fragment] = link.split('#');
    const target = path ? join(dirname(file), path) : file;
    if (!existsSync(target)) return true;
    return fragment !== undefined && target.endsWith('.md') && !anchors(target).has(decodeURIComponent(fragment));
  });
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

test('README.md, README.zh-CN.md and every docs/ page: relative links name existing files and headings', () => {
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
