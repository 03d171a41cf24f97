// Reading a source tree's imports as text, for the tests of who may import what.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Folders that hold no source of the project's own. */
const NOT_SOURCE = new Set(['node_modules', '.cache', '.git', '.stack', 'dist']);

/** The `.ts` files under `dir`, recursively, skipping dependencies, caches and build output. */
export function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (NOT_SOURCE.has(e.name)) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...tsFiles(p));
    else if (e.isFile() && e.name.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** Module specifiers of a file's static imports / re-exports and dynamic `import('…')`s. */
export function importsOf(text: string): string[] {
  const statics = text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s*'([^']+)'/gm);
  const sideEffect = text.matchAll(/^\s*import\s*'([^']+)'/gm);
  const dynamic = text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g);
  return [...statics, ...sideEffect, ...dynamic].map((m) => m[1] as string);
}
