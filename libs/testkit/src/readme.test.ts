import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';

const readme = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8');

test.each(['example.int.test.ts', 'databases-example.int.test.ts'])(
  "the README's example is src/%s, verbatim (so the example is a test that runs)",
  (file) => {
    const example = readFileSync(join(import.meta.dirname, file), 'utf8');
    expect(readme).toContain(`\`\`\`ts\n${example}\`\`\``);
  },
);

test("dtmBin's doc comment names the places the README's Binaries section names, in its order", () => {
  const types = readFileSync(join(import.meta.dirname, 'types.ts'), 'utf8');
  const comment = /\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*dtmBin\?/.exec(types)?.[1] ?? '';
  const order = ['DTM_BIN', 'on PATH', '.cache/bin/dtm', 'dtm-gozero-ts/dtm-v1.19.0'];
  const at = order.map((w) => comment.indexOf(w));
  expect(
    at.every((i) => i >= 0),
    comment,
  ).toBe(true);
  expect([...at].sort((a, b) => a - b)).toEqual(at);
  expect(readme).toMatch(/`DTM_BIN` environment variable, else `PATH`, else \(dtm\) the cache/);
});
