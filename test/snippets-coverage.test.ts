// Every page a user copies TypeScript from is compiled by test/integration/consumer.int.test.ts, which reads only
// the pages listed in READMES: a page that gains a ```ts block (or text moved into docs/) must be listed there too.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { root } from '@dtm-gozero/devkit';
import { expect, test } from 'vitest';
import { READMES, snippetFiles } from './consumer/snippets.ts';

/** README.md, the English docs pages (a .zh-CN.md twin repeats its page's blocks), the libraries' and tools' pages. */
const pages = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md') && !f.endsWith('.zh-CN.md'))
    .map((f) => `docs/${f}`),
  ...['libs', 'tools'].flatMap((dir) =>
    readdirSync(join(root, dir)).flatMap((pkg) =>
      readdirSync(join(root, dir, pkg))
        .filter((f) => f.endsWith('.md') && !f.endsWith('.zh-CN.md'))
        .map((f) => `${dir}/${pkg}/${f}`),
    ),
  ),
];

test('every page with a ts block is in the consumer test READMES list, and each listed page parses', () => {
  const withTs = pages.filter((p) => /^```ts$/m.test(readFileSync(join(root, p), 'utf8')));
  expect(withTs).toEqual(expect.arrayContaining(['docs/tests.md', 'docs/walkthrough.md', 'libs/dtmgrpc/README.md']));
  const listed = READMES.map((r) => r.file);
  expect(withTs.filter((p) => !listed.includes(p))).toEqual([]);
  for (const r of READMES) expect(() => snippetFiles(readFileSync(join(root, r.file), 'utf8'), r.id)).not.toThrow();
});
