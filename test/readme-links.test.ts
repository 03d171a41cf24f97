// The libraries' READMEs link their API tables to the source files: every relative link of those READMEs names a
// file that exists (a moved or renamed module must take its links along), and every row of an API table links one.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { expect, test } from 'vitest';
import { root } from './support/procs.ts';

const LIBS = ['gozero', 'dtmgrpc', 'testkit'] as const;

test.each(LIBS)('libs/%s/README.md: relative links name existing files; each API table row links its source', (lib) => {
  const file = join(root, 'libs', lib, 'README.md');
  const text = readFileSync(file, 'utf8');
  const targets = [...text.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => (m[1] as string).split('#')[0] as string)
    .filter((t) => t && !/^[a-z]+:/.test(t));
  expect(targets.filter((t) => !existsSync(join(dirname(file), t)))).toEqual([]);
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
