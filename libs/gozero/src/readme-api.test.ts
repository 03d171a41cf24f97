// The README's API table is the package's public API: every name exported by index.ts is in the table's first
// column, and every name there is exported.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';

const dir = join(import.meta.dirname, '..');

test('README API table == index.ts exports', () => {
  const index = readFileSync(join(dir, 'src/index.ts'), 'utf8');
  const exported = new Set<string>();
  for (const block of index.matchAll(/export\s*\{([^}]*)\}/g)) {
    for (const part of (block[1] as string).split(',')) {
      const name = part.trim().replace(/^type\s+/, '');
      if (name) exported.add(name);
    }
  }
  const readme = readFileSync(join(dir, 'README.md'), 'utf8');
  const table = readme.slice(readme.indexOf('| API |'));
  const rows = table.slice(0, table.indexOf('\n\n')).split('\n').slice(2);
  const documented = new Set<string>();
  for (const row of rows) {
    const first = row.split('|')[1] ?? '';
    for (const code of first.matchAll(/`([^`]+)`/g)) {
      const m = /^(?:new\s+)?([A-Za-z_]\w*)/.exec(code[1] as string);
      if (m && !/^(start|stop|keepAlive|values|close|health)$/.test(m[1] as string)) documented.add(m[1] as string);
    }
  }
  expect([...documented].sort()).toEqual([...exported].sort());
});
