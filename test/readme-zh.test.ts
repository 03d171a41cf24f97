// README.zh-CN.md translates README.md's intro, quick starts, walkthrough and tests sections. These checks fail when
// the two drift: the translated sections must carry the same code blocks in the same order (the Chinese file has no
// others), the walkthrough the same numbered steps, and each section the same npm commands.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';

const root = join(import.meta.dirname, '..');

/** The translated `##` sections of README.md, each with its `###` subsections, and their titles in README.zh-CN.md. */
const SECTIONS: { en: string; zh: string }[] = [
  { en: 'Quick start (no Docker)', zh: '快速开始（不用 Docker）' },
  { en: 'Every transaction mode', zh: '所有事务模式' },
  { en: 'The bank', zh: '银行示例' },
  { en: 'A dtm cluster', zh: 'dtm 集群' },
  { en: 'Chaos suite', zh: '混沌测试' },
  { en: 'Quick start with Docker', zh: '用 Docker 快速开始' },
  {
    en: "Walkthrough: dtm's go-zero guide, step by step in TypeScript",
    zh: '逐步演练：用 TypeScript 走一遍 dtm 的 go-zero 指南',
  },
  { en: 'Tests', zh: '测试' },
];
const QUICK_START = SECTIONS[0]!;
const WALKTHROUGH = SECTIONS.find((s) => s.en.startsWith('Walkthrough'))!;

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

const en = parse(readFileSync(join(root, 'README.md'), 'utf8'));
const zh = parse(readFileSync(join(root, 'README.zh-CN.md'), 'utf8'));

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
/** Blocks as printable strings, so that a failure shows the drifted block itself. */
const blocks = (doc: Doc, range: [number, number]): string[] =>
  doc.blocks.filter((b) => inRange(b.line, range)).map((b) => `\`\`\`${b.info}\n${b.text}\n\`\`\``);
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

test('the code blocks of each translated section are the same, byte for byte and in order', () => {
  expect(blocks(zh, intro(zh)), 'intro').toEqual(blocks(en, intro(en)));
  for (const s of SECTIONS) {
    expect(blocks(zh, section(zh, s.zh)), `code blocks of "## ${s.zh}"`).toEqual(blocks(en, section(en, s.en)));
  }
});

test('README.zh-CN.md has no code blocks but those of the translated sections', () => {
  const english = [intro(en), ...SECTIONS.map((s) => section(en, s.en))].flatMap((r) => blocks(en, r));
  // The parser does see every kind of block, the walkthrough's indented yaml included.
  expect(english.map((b) => b.split('\n')[0])).toEqual(
    expect.arrayContaining(['```sh', '```text', '```yaml', '```ts']),
  );
  expect(blocks(zh, [0, zh.lines.length])).toEqual(english);
});

test('the walkthrough has the same 6 numbered steps', () => {
  const steps = (doc: Doc, title: string): string[] => {
    const [start, end] = section(doc, title);
    const firstSub = doc.headings.find((h) => h.level === 3 && inRange(h.line, [start, end]))?.line ?? end;
    return doc.lines
      .slice(start, firstSub)
      .map((l, i) => (doc.inCode.has(start + i) ? undefined : /^(\d+)\. /.exec(l)?.[1]))
      .filter((n) => n !== undefined);
  };
  const english = steps(en, WALKTHROUGH.en);
  expect(english).toEqual(['1', '2', '3', '4', '5', '6']);
  expect(steps(zh, WALKTHROUGH.zh)).toEqual(english);
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
