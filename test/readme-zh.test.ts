// README.zh-CN.md translates every section of README.md, and each docs/<topic>.zh-CN.md its docs/<topic>.md. These
// checks fail when a pair drifts: the same sections in the same order with as many subsections, the same code blocks
// in the same order (shell comments may be translated: the commands must match), the same npm commands per section,
// and the same tables (as many, of the same shape, with the same code spans: commands, messages, flags).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';

const root = join(import.meta.dirname, '..');

/** The `##` sections of README.md, each with its `###` subsections, and their titles in README.zh-CN.md: all of them. */
const SECTIONS: { en: string; zh: string }[] = [
  { en: 'Quick start (no Docker)', zh: '快速开始（不用 Docker）' },
  { en: 'Every transaction mode', zh: '所有事务模式' },
  { en: 'Documentation', zh: '文档' },
];
const QUICK_START = SECTIONS[0]!;

interface Heading {
  level: number;
  title: string;
  line: number;
}
/** A fenced code block: its info string (`sh`, `yaml`…) and its lines, without the fence's indentation. */
interface Block {
  info: string;
  text: string;
  line: number;
}
interface Doc {
  lines: string[];
  headings: Heading[];
  blocks: Block[];
  /** Line numbers inside fenced code blocks, fences included. */
  inCode: Set<number>;
}

/** Headings and fenced code blocks (also indented ones, inside list items), as CommonMark reads them. */
function parse(md: string): Doc {
  const lines = md.split(/\r?\n/);
  const doc: Doc = { lines, headings: [], blocks: [], inCode: new Set() };
  let open: { indent: number; fence: string; info: string; line: number; body: string[] } | undefined;
  lines.forEach((l, i) => {
    if (open) {
      doc.inCode.add(i);
      const close = /^\s*(`{3,}|~{3,})\s*$/.exec(l);
      if (close && close[1]![0] === open.fence[0] && close[1]!.length >= open.fence.length) {
        doc.blocks.push({ info: open.info, text: open.body.join('\n'), line: open.line });
        open = undefined;
      } else {
        const indent = /^ */.exec(l)![0].length;
        open.body.push(l.slice(Math.min(indent, open.indent)));
      }
      return;
    }
    const fence = /^( *)(`{3,}|~{3,})([^`]*)$/.exec(l);
    if (fence) {
      doc.inCode.add(i);
      open = { indent: fence[1]!.length, fence: fence[2]!, info: fence[3]!.trim(), line: i, body: [] };
      return;
    }
    const heading = /^(#{1,6})\s+(.*?)\s*$/.exec(l);
    if (heading) doc.headings.push({ level: heading[1]!.length, title: heading[2]!, line: i });
  });
  if (open) throw new Error(`the code block opened on line ${open.line + 1} is never closed`);
  return doc;
}

const read = (file: string): Doc => parse(readFileSync(join(root, file), 'utf8'));
const en = read('README.md');
const zh = read('README.zh-CN.md');

/** The line range [start, end) of the `## title` section, its `###` subsections included. */
function section(doc: Doc, title: string): [number, number] {
  const i = doc.headings.findIndex((h) => h.level === 2 && h.title === title);
  expect(i, `no "## ${title}"`).toBeGreaterThanOrEqual(0);
  const next = doc.headings.slice(i + 1).find((h) => h.level <= 2);
  return [doc.headings[i]!.line, next?.line ?? doc.lines.length];
}
/** The part before the first `##`: the title and the intro. */
const intro = (doc: Doc): [number, number] => [0, doc.headings.find((h) => h.level === 2)?.line ?? doc.lines.length];

const inRange = (line: number, [start, end]: [number, number]): boolean => line >= start && line < end;
/** A shell block's commands without their comments (translated in the Chinese file); other blocks as they are. */
const code = (b: Block): string => (b.info === 'sh' ? b.text.replace(/[ \t]+#.*$/gm, '') : b.text);
/** Blocks as printable strings, so that a failure shows the drifted block itself. */
const blocks = (doc: Doc, range: [number, number]): string[] =>
  doc.blocks.filter((b) => inRange(b.line, range)).map((b) => `\`\`\`${b.info}\n${code(b)}\n\`\`\``);
/** The tables of a range (outside code blocks): each as its shape (rows × columns) and the code spans of each row. */
const tables = (doc: Doc, [start, end]: [number, number]): string[][] => {
  const out: string[][] = [];
  let current: string[] | undefined;
  for (let i = start; i < end; i++) {
    const l = doc.lines[i] as string;
    if (doc.inCode.has(i) || !/^\|.*\|\s*$/.test(l)) {
      current = undefined;
      continue;
    }
    if (!current) {
      current = [];
      out.push(current);
    }
    // cells split on unescaped pipes; a row is its column count and its code spans, in order
    const cells = l.replace(/\\\|/g, '\u0000').split('|').slice(1, -1);
    const spans = [...l.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
    current.push(`${cells.length} columns: ${spans.join(' · ')}`);
  }
  return out;
};
const subsections = (doc: Doc, range: [number, number]): number =>
  doc.headings.filter((h) => h.level === 3 && inRange(h.line, range)).length;
/** Prose and code of a range, code blocks included (the quick start's commands are in both). */
const text = (doc: Doc, [start, end]: [number, number]): string => doc.lines.slice(start, end).join('\n');
/** The npm commands a range mentions (`npm run trans`, `npm start`, `npm ci`…), sorted, each once. */
const npmCommands = (doc: Doc, range: [number, number]): string[] =>
  [...new Set(text(doc, range).match(/\bnpm (?:run [\w:-]+|start|test|ci)\b/g) ?? [])].sort();

test('each README links to the other, right after its title', () => {
  expect(en.lines[0]).toMatch(/^# /);
  expect(en.lines[1]).toBe('[中文](README.zh-CN.md)');
  expect(zh.lines[0]).toMatch(/^# /);
  expect(zh.lines[1]).toBe('[English](README.md)');
});

test('README.zh-CN.md has every section of README.md, and no other', () => {
  const titles = (doc: Doc): string[] => doc.headings.filter((h) => h.level === 2).map((h) => h.title);
  expect(titles(en), 'an English section without its Chinese title in SECTIONS').toEqual(SECTIONS.map((s) => s.en));
  expect(titles(zh)).toEqual(SECTIONS.map((s) => s.zh));
});

test('README.zh-CN.md has the translated sections, in the English order, with as many subsections', () => {
  const order = (doc: Doc, titles: string[]): string[] =>
    doc.headings.filter((h) => h.level === 2 && titles.includes(h.title)).map((h) => h.title);
  expect(
    order(
      en,
      SECTIONS.map((s) => s.en),
    ),
  ).toEqual(SECTIONS.map((s) => s.en));
  expect(
    order(
      zh,
      SECTIONS.map((s) => s.zh),
    ),
  ).toEqual(SECTIONS.map((s) => s.zh));
  for (const s of SECTIONS) {
    expect(subsections(zh, section(zh, s.zh)), `### count under "## ${s.zh}"`).toBe(subsections(en, section(en, s.en)));
  }
});

test('the code blocks of each translated section are the same, in order (shell comments aside)', () => {
  expect(blocks(zh, intro(zh)), 'intro').toEqual(blocks(en, intro(en)));
  for (const s of SECTIONS) {
    expect(blocks(zh, section(zh, s.zh)), `code blocks of "## ${s.zh}"`).toEqual(blocks(en, section(en, s.en)));
  }
});

test('README.zh-CN.md has no code blocks but those of the translated sections', () => {
  const english = [intro(en), ...SECTIONS.map((s) => section(en, s.en))].flatMap((r) => blocks(en, r));
  expect(english.map((b) => b.split('\n')[0])).toEqual(expect.arrayContaining(['```sh', '```text']));
  expect(blocks(zh, [0, zh.lines.length])).toEqual(english);
});

test('each translated section names the same npm commands, the quick start first of all', () => {
  const quickStart = npmCommands(en, section(en, QUICK_START.en));
  expect(quickStart).toEqual(expect.arrayContaining(['npm ci', 'npm run setup', 'npm run stack:up', 'npm run app']));
  expect(npmCommands(zh, section(zh, QUICK_START.zh))).toEqual(quickStart);
  for (const s of SECTIONS) {
    expect(npmCommands(zh, section(zh, s.zh)), `npm commands of "## ${s.zh}"`).toEqual(
      npmCommands(en, section(en, s.en)),
    );
  }
});

test('the tables of each section are the same: as many, of the same shape, with the same code spans', () => {
  expect(tables(en, section(en, 'Documentation')).length, 'the parser sees tables').toBe(1);
  expect(tables(zh, intro(zh))).toEqual(tables(en, intro(en)));
  for (const s of SECTIONS) {
    expect(tables(zh, section(zh, s.zh)), `tables of "## ${s.zh}"`).toEqual(tables(en, section(en, s.en)));
  }
});

test('the first code block’s comments are Chinese, its commands the English ones', () => {
  const first = zh.blocks[0] as Block;
  const comments = [...first.text.matchAll(/#\s*(.*)$/gm)].map((m) => m[1] as string);
  expect(comments.length).toBeGreaterThan(0);
  for (const c of comments) expect(c, 'a comment left in English').toMatch(/[\u4e00-\u9fff]/);
});

// docs/<topic>.zh-CN.md pages translate docs/<topic>.md, and tools/<tool>/README.zh-CN.md its README.md: the same
// checks, sections matched by position.
const twins = [
  ...readdirSync(join(root, 'docs')).map((f) => `docs/${f}`),
  ...readdirSync(join(root, 'tools')).map((t) => `tools/${t}/README.zh-CN.md`),
  // a library with a Chinese README (the bank) keeps it in step too
  ...readdirSync(join(root, 'libs'))
    .map((l) => `libs/${l}/README.zh-CN.md`)
    .filter((f) => existsSync(join(root, f))),
]
  .filter((f) => f.endsWith('.zh-CN.md'))
  .map((zh) => ({ zh, en: zh.replace(/\.zh-CN\.md$/, '.md') }));

test('every docs/*.zh-CN.md, tools/*/README.zh-CN.md and libs/*/README.zh-CN.md has its English twin, with the same sections, code blocks, npm commands and tables', () => {
  expect(twins.map((t) => t.zh)).toEqual(
    expect.arrayContaining([
      'tools/chaos/README.zh-CN.md',
      'libs/bank/README.zh-CN.md',
      'docs/walkthrough.zh-CN.md',
      'docs/tests.zh-CN.md',
    ]),
  );
  // The parser sees every kind of block in the pages, the walkthrough's indented yaml included.
  const kinds = twins.flatMap((t) => read(t.en).blocks.map((b) => b.info));
  expect(kinds).toEqual(expect.arrayContaining(['sh', 'text', 'yaml', 'ts']));
  for (const t of twins) {
    expect(existsSync(join(root, t.zh)), `${t.zh} is missing`).toBe(true);
    expect(existsSync(join(root, t.en)), `${t.zh} has no ${t.en}`).toBe(true);
    const e = parse(readFileSync(join(root, t.en), 'utf8'));
    const z = parse(readFileSync(join(root, t.zh), 'utf8'));
    const levels = (d: Doc): number[] => d.headings.map((h) => h.level);
    expect(levels(z), `${t.zh}: headings`).toEqual(levels(e));
    const ranges = (d: Doc): [number, number][] => [
      intro(d),
      ...d.headings
        .map((h, i) => ({ h, i }))
        .filter(({ h }) => h.level === 2)
        .map(({ h }) => section(d, h.title)),
    ];
    const [re, rz] = [ranges(e), ranges(z)];
    for (const [i, r] of re.entries()) {
      const what = `${t.zh}, section ${i}`;
      expect(blocks(z, rz[i] as [number, number]), `${what}: code blocks`).toEqual(blocks(e, r));
      expect(npmCommands(z, rz[i] as [number, number]), `${what}: npm commands`).toEqual(npmCommands(e, r));
      expect(tables(z, rz[i] as [number, number]), `${what}: tables`).toEqual(tables(e, r));
    }
  }
});

test('README.md is a front door: at most 250 lines, its map links every docs page, the Chinese map the Chinese twin', () => {
  expect(en.lines.length).toBeLessThanOrEqual(250);
  const links = (doc: Doc): string[] =>
    text(doc, section(doc, doc === en ? 'Documentation' : '文档'))
      .match(/\]\((docs\/[^)#]+)\)/g)!
      .map((l) => l.slice(2, -1));
  const pages = readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md') && !f.endsWith('.zh-CN.md'));
  expect(
    pages.map((p) => `docs/${p}`).filter((p) => !links(en).includes(p)),
    'pages the map leaves out',
  ).toEqual([]);
  expect(links(zh)).toEqual(links(en).map((l) => l.replace(/\.md$/, '.zh-CN.md')));
  for (const l of links(zh)) expect(existsSync(join(root, l)), `${l} is missing`).toBe(true);
});

test("the walkthrough of dtm's go-zero guide has the same 6 numbered steps in both languages", () => {
  const steps = (doc: Doc): string[] => {
    const [start, end] = intro(doc);
    return doc.lines
      .slice(start, end)
      .map((l, i) => (doc.inCode.has(start + i) ? undefined : /^(\d+)\. /.exec(l)?.[1]))
      .filter((n) => n !== undefined);
  };
  const english = steps(read('docs/walkthrough.md'));
  expect(english).toEqual(['1', '2', '3', '4', '5', '6']);
  expect(steps(read('docs/walkthrough.zh-CN.md'))).toEqual(english);
});
