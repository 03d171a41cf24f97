// `npm pack` inside a package folder would pack TypeScript sources with `exports` on src/ and no dist/: each
// published package's `prepack` refuses and names the command that packs it right (scripts/pack-libs.ts), and the
// manifest that script publishes carries no such guard.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { root } from '@dtm-gozero/devkit';
import { expect, test } from 'vitest';
import { PACKAGES, publishedManifest } from '../scripts/pack-libs.ts';

test.each(PACKAGES.map((p) => p.dir))('npm pack in %s refuses and names `npm run pack`', (dir) => {
  const r = spawnSync('npm', ['pack', '--dry-run', '--ignore-scripts=false'], {
    cwd: join(root, dir),
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(r.status, r.stdout).not.toBe(0);
  expect(r.stderr).toContain('run npm run pack at the repository root');
  expect(r.stdout).not.toMatch(/\.tgz/);
  const manifest = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'));
  expect(publishedManifest(manifest).scripts?.prepack).toBeUndefined();
});
