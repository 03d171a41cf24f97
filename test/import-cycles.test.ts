// No library may import itself in a circle (issue 17: xa-local ↔ xa-mysql ↔ xa-postgres, testkit's backend ↔ docker,
// gozero's conf and resolvers): `npm run lint` runs Biome's noImportCycles over every package under libs/. This
// proves the repository's own biome.json does: a circle planted in a copy of each package's folder is reported.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { root } from '@dtm-gozero/devkit';
import { expect, test } from 'vitest';

const libs = readdirSync(join(root, 'libs'), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name);

test('biome.json reports an import circle in any package under libs/, type-only imports included', () => {
  const dir = mkdtempSync(join(tmpdir(), 'import-cycles-'));
  try {
    copyFileSync(join(root, 'biome.json'), join(dir, 'biome.json'));
    // biome.json reads .gitignore (vcs.useIgnoreFile): the copy needs a repository of its own
    expect(spawnSync('git', ['init', '-q', dir]).status).toBe(0);
    writeFileSync(join(dir, '.gitignore'), '');
    for (const lib of libs) {
      const src = join(dir, 'libs', lib, 'src');
      mkdirSync(src, { recursive: true });
      writeFileSync(join(src, 'a.ts'), "import { b } from './b.ts';\nexport const a = (): unknown => b;\n");
      writeFileSync(
        join(src, 'b.ts'),
        "import type { a } from './a.ts';\nexport const b = (x: typeof a): unknown => x;\n",
      );
    }
    const biome = join(root, 'node_modules', '.bin', 'biome');
    const r = spawnSync(biome, ['lint', '--only=suspicious/noImportCycles', '--max-diagnostics=100', 'libs'], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 60_000,
    });
    const out = `${r.stdout}${r.stderr}`;
    expect(r.status, out).toBe(1);
    for (const lib of libs) {
      expect(out, lib).toContain(`libs/${lib}/src/a.ts`);
      expect(out, lib).toContain(`libs/${lib}/src/b.ts`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
