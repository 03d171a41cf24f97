// The TypeScript examples of the READMEs, as files a project of a user's own would hold: every ```ts block of a
// README belongs to a file. The HTML comment `<!-- snippet: <path> -->` right above a block starts that file; a
// block without one continues the README's previous file. Lines after the path inside the comment are a hidden
// prelude (imports and declarations a fragment assumes), put before the block. A file named `*.test.ts` is a vitest
// test: it is run, the others are type-checked only (they need servers on fixed ports, as the README describes).
// `<!-- snippet: skip -->` leaves out a block that is not code to compile (an API listing of signatures).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SnippetFile {
  /** `<readme id>/<path>`, e.g. `testkit/test/dtm.test.ts`. */
  path: string;
  text: string;
  /** A vitest test file (`*.test.ts`): run, not only type-checked. */
  runnable: boolean;
}

/** The READMEs whose examples a user copies, and the folder their files go to. */
export const READMES: readonly { id: string; file: string }[] = [
  { id: 'root', file: 'README.md' },
  { id: 'tests', file: 'docs/tests.md' },
  { id: 'walkthrough', file: 'docs/walkthrough.md' },
  { id: 'observability', file: 'docs/observability.md' },
  { id: 'gozero', file: 'libs/gozero/README.md' },
  { id: 'dtmgrpc', file: 'libs/dtmgrpc/README.md' },
  { id: 'testkit', file: 'libs/testkit/README.md' },
  { id: 'barrier', file: 'libs/dtmgrpc/BARRIER.md' },
];

const FENCE = /^```ts\n([\s\S]*?)^```$/gm;
const MARKER = /<!-- snippet: (\S+)((?:(?!-->)[\s\S])*)-->\s*$/;

/** The files of one README's ```ts blocks, in order. */
export function snippetFiles(markdown: string, id: string): SnippetFile[] {
  const files: SnippetFile[] = [];
  for (const m of markdown.matchAll(FENCE)) {
    const marker = MARKER.exec(markdown.slice(Math.max(0, (m.index ?? 0) - 2000), m.index));
    const code = m[1] as string;
    const last = files.at(-1);
    if (marker?.[1] === 'skip') continue;
    if (marker) {
      const path = `${id}/${marker[1]}`;
      if (files.some((f) => f.path === path)) throw new Error(`${id}: two snippets start ${marker[1]}`);
      const prelude = (marker[2] ?? '').replace(/^\n+/, '');
      files.push({ path, text: prelude + code, runnable: path.endsWith('.test.ts') });
    } else if (last) {
      last.text += `\n${code}`;
    } else {
      throw new Error(`${id}: its first ts block has no <!-- snippet: <path> --> comment above it`);
    }
  }
  return files;
}

/** Every README's snippet files. */
export function allSnippetFiles(root: string): SnippetFile[] {
  return READMES.flatMap((r) => snippetFiles(readFileSync(join(root, r.file), 'utf8'), r.id));
}
