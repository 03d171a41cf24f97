// The READMEs' commands must leave `git status` clean and the next `npm test` green: every file or folder they tell
// a command to write (`--out`, `--cpu-prof`) lies where git ignores it, and so Biome too (it reads .gitignore).
// Before this check, `npm run chaos -- … --out chaos.json` wrote into the repo root and broke the next lint.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { root } from '@dtm-gozero/devkit';
import { expect, test } from 'vitest';

const DOCS = [
  'README.md',
  'README.zh-CN.md',
  ...readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
  ...readdirSync(join(root, 'tools')).flatMap((t) => [`tools/${t}/README.md`, `tools/${t}/README.zh-CN.md`]),
];

/** `npm run …` commands of a Markdown text: the lines of its sh blocks and its inline code spans. */
function commands(md: string): string[] {
  const out: string[] = [];
  for (const block of md.matchAll(/```sh\n([\s\S]*?)```/g)) out.push(...block[1]!.split('\n'));
  for (const span of md.matchAll(/`([^`\n]+)`/g)) out.push(span[1]!);
  return out.filter((c) => /\bnpm (run|start)\b/.test(c));
}

/** The paths a command is told to write; placeholders (FILE, DIR, <…>) are not paths. */
function outputs(command: string): string[] {
  return [...command.matchAll(/--(?:out|cpu-prof)[ =](\S+)/g)]
    .map((m) => m[1]!)
    .filter((p) => !/^[A-Z_.]+(\.json)?$|[<>]/.test(p));
}

/** Whether git ignores `path` (relative to the repo root), as a fresh clone's .gitignore says. */
const ignored = (path: string): boolean =>
  spawnSync('git', ['check-ignore', '-q', '--no-index', path], { cwd: root }).status === 0;

test('the parser finds the outputs of a command, and leaves placeholders alone', () => {
  expect(
    commands('run `npm run chaos -- --out a.json` and\n```sh\nnpm run bench -- --cpu-prof p # x\nls\n```\n'),
  ).toEqual(['npm run bench -- --cpu-prof p # x', 'npm run chaos -- --out a.json']);
  expect(outputs('npm run bench -- --out x/y.json --cpu-prof DIR --out=FILE.json')).toEqual(['x/y.json']);
  expect(ignored('chaos.json')).toBe(false);
  expect(ignored('.cache/chaos/chaos.json')).toBe(true);
});

test('Biome skips what git ignores', () => {
  const biome = JSON.parse(readFileSync(join(root, 'biome.json'), 'utf8')) as { vcs?: { useIgnoreFile?: boolean } };
  expect(biome.vcs?.useIgnoreFile).toBe(true);
});

test.each(DOCS)('every output of the commands in %s lands where git and Biome ignore it', (doc) => {
  const md = readFileSync(join(root, doc), 'utf8');
  // docs/bench/*.json are the committed figures: the command that remakes them is meant to change them.
  const paths = commands(md)
    .flatMap(outputs)
    .filter((p) => !p.startsWith('docs/'));
  const tracked = paths.filter((p) => !ignored(p));
  expect(tracked, `${doc}: outputs git would show as untracked`).toEqual([]);
});
