// The package loads no database driver until a bank is opened, then only the one its DataSource needs: trans
// without a database (the Go example's YAML) imports the package for its config and never pays for mysql2 or pg.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect, test } from 'vitest';

/** The drivers loaded in a fresh Node after importing the package and opening banks on `sources` (nothing listens). */
function driversAfter(sources: string[]): string[] {
  const index = pathToFileURL(join(import.meta.dirname, 'index.ts')).href;
  const script = `
    import { createRequire } from 'node:module';
    const bank = await import(${JSON.stringify(index)});
    const loaded = () => Object.keys(createRequire(import.meta.url).cache)
      .map((f) => /\\/node_modules\\/(mysql2|pg)\\//.exec(f)?.[1]).filter(Boolean);
    for (const s of ${JSON.stringify(sources)}) {
      const src = s.startsWith('postgres') ? bank.parsePostgresDataSource(s, 't') : bank.parseMysqlDataSource(s, 't');
      await bank.openBank(src).close();
    }
    console.log(JSON.stringify([...new Set(loaded())].sort()));
  `;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  return JSON.parse(out.trim().split('\n').pop() as string);
}

test('importing the package loads neither driver; opening a bank loads its own only', () => {
  expect(driversAfter([])).toEqual([]);
  expect(driversAfter(['root:x@tcp(127.0.0.1:1)/b'])).toEqual(['mysql2']);
  expect(driversAfter(['postgres://u:x@127.0.0.1:1/b'])).toEqual(['pg']);
}, 60_000);
