// The published packages as a whole: each README's API table is exactly what its index.ts exports, no library
// source imports outside its package or anything its manifest does not declare, every app declares what it imports,
// and a too-old Node gets one clear message (the same version as `engines`).
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { root } from '@dtm-gozero/devkit';
import { describe, expect, test } from 'vitest';
import { publishedManifest } from '../scripts/pack-libs.ts';
import { importsOf, tsFiles } from './support/imports.ts';

const LIBS = ['gozero', 'dtmgrpc', 'testkit'] as const;

/** Names a module exports, following `export … from` (the index files only re-export). */
function exportedNames(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const names: string[] = [];
  for (const m of text.matchAll(/export\s+(?:type\s+)?\{([^}]*)\}\s*from\s*'([^']+)'/g)) {
    for (const part of (m[1] as string).split(',')) {
      const name = part
        .trim()
        .replace(/^type\s+/, '')
        .split(/\s+as\s+/)
        .pop()
        ?.trim();
      if (name) names.push(name);
    }
  }
  for (const m of text.matchAll(/export\s+\*\s+from\s*'([^']+)'/g)) {
    names.push(...exportedNames(resolve(dirname(file), m[1] as string)));
  }
  return names.sort();
}

/**
 * The names in the first column of a README's API table (header `| export |` or `| API |`): the leading identifier of
 * each code span, up to an arrow (`new RpcServer(…)` → `start()`: what follows the arrow are its methods).
 */
function tableNames(readme: string): string[] {
  const lines = readme.split('\n');
  const start = lines.findIndex((l) => /^\|\s*(?:export|API)\s*\|/.test(l));
  if (start < 0) throw new Error('no "| export |" or "| API |" table');
  const names: string[] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    const first = (line.split(/(?<!\\)\|/)[1] ?? '').split('→')[0] as string;
    for (const m of first.matchAll(/`([^`]+)`/g)) {
      const id = /^(?:new\s+|await\s+|type\s+)?([A-Za-z_$][\w$]*)/.exec(m[1] as string)?.[1];
      if (id) names.push(id);
    }
  }
  return names.sort();
}

// The bank (libs/bank) is a private workspace package: not published, but held to the same API table and imports.
describe.each([...LIBS, 'bank'])('@dtm-gozero/%s', (lib) => {
  const dir = join(root, 'libs', lib);
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));

  test("its README's API table lists exactly what index.ts exports", () => {
    const exported = exportedNames(join(dir, 'src/index.ts'));
    const documented = tableNames(readFileSync(join(dir, 'README.md'), 'utf8'));
    expect(
      documented.filter((n) => !exported.includes(n)),
      'in the table, not exported',
    ).toEqual([]);
    expect(
      exported.filter((n) => !documented.includes(n)),
      'exported, not in the table',
    ).toEqual([]);
  });

  test('its sources import nothing outside the package, and only packages its manifest declares', () => {
    const declared = Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies });
    const problems: string[] = [];
    for (const file of tsFiles(join(dir, 'src')).filter((f) => !f.endsWith('.test.ts'))) {
      for (const spec of importsOf(readFileSync(file, 'utf8'))) {
        const where = `${relative(root, file)}: ${spec}`;
        if (spec.startsWith('.')) {
          if (relative(join(dir, 'src'), resolve(dirname(file), spec)).startsWith('..')) problems.push(where);
        } else if (!spec.startsWith('node:') && !builtinModules.includes(spec)) {
          const pkg = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : (spec.split('/')[0] as string);
          if (!declared.includes(pkg)) problems.push(`${where} (not in dependencies)`);
        }
      }
    }
    expect(problems).toEqual([]);
  });
});

describe.each(LIBS)('@dtm-gozero/%s, published', (lib) => {
  const dir = join(root, 'libs', lib);
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));

  test('a Node older than engines gets one clear message; the minimum is the one engines names', async () => {
    const { checkNodeVersion, MIN_NODE } = await import(join(dir, 'src/internal/node-check.ts'));
    expect(manifest.engines.node).toBe(`>=${MIN_NODE.join('.')}`);
    expect(() => checkNodeVersion('20.11.1')).toThrow(
      `@dtm-gozero/${lib} needs Node.js >= ${MIN_NODE.join('.')}, but this is Node.js 20.11.1; upgrade Node`,
    );
    expect(() => checkNodeVersion(`${MIN_NODE[0]}.${MIN_NODE[1]}.0`)).not.toThrow();
    expect(() => checkNodeVersion('25.0.0')).not.toThrow();
    // It runs first: index.ts imports it before anything else.
    expect(readFileSync(join(dir, 'src/index.ts'), 'utf8')).toMatch(
      /^\/\/[^\n]*\nimport '\.\/internal\/node-check\.ts';/,
    );
  });

  test('the published manifest: exports on dist (types first), licence, engines, files, no devDependencies', () => {
    const m = publishedManifest(manifest);
    expect(Object.keys(m.exports['.'] ?? {})).toEqual(['types', 'default']);
    expect(m.exports['.']).toEqual({ types: './dist/index.d.ts', default: './dist/index.js' });
    expect(m).toMatchObject({ license: 'MIT', type: 'module', version: expect.stringMatching(/^\d+\.\d+\.\d+$/) });
    expect(m.private).toBeUndefined();
    expect(m.devDependencies).toBeUndefined();
    expect(m.sideEffects).toEqual(['./dist/internal/node-check.js']);
    expect(manifest.files).toContain('dist');
  });
});

test('no published package depends on a private workspace (devkit, the tools, the apps): their tests may, as devDependencies', () => {
  const privates = ['apps', 'tools'].flatMap((d) =>
    readdirSync(join(root, d)).map((p) => JSON.parse(readFileSync(join(root, d, p, 'package.json'), 'utf8')).name),
  );
  expect(privates).toContain('@dtm-gozero/devkit');
  for (const lib of LIBS) {
    const m = JSON.parse(readFileSync(join(root, 'libs', lib, 'package.json'), 'utf8'));
    const published = publishedManifest(m) as Record<string, Record<string, string> | undefined>;
    const named = ['dependencies', 'peerDependencies', 'optionalDependencies'].flatMap((k) =>
      Object.keys(published[k] ?? {}),
    );
    expect(
      named.filter((n) => privates.includes(n)),
      lib,
    ).toEqual([]);
  }
});

test('database drivers are optional peers of the libraries, never plain dependencies', () => {
  for (const lib of ['dtmgrpc', 'testkit']) {
    const m = JSON.parse(readFileSync(join(root, 'libs', lib, 'package.json'), 'utf8'));
    for (const d of ['mysql2', 'pg', 'ioredis']) {
      expect(m.dependencies?.[d], `${lib}: ${d}`).toBeUndefined();
      if (m.peerDependencies?.[d]) expect(m.peerDependenciesMeta?.[d]?.optional, `${lib}: ${d}`).toBe(true);
    }
  }
});

test('every app and tool declares the packages it imports', () => {
  const problems: string[] = [];
  const dirs = ['apps', 'tools'].flatMap((d) => readdirSync(join(root, d)).map((p) => join(root, d, p)));
  expect(dirs).toContain(join(root, 'tools/chaos'));
  for (const dir of dirs) {
    const m = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const declared = Object.keys({ ...m.dependencies, ...m.devDependencies });
    for (const file of tsFiles(join(dir, 'src')).filter((f) => !f.endsWith('.test.ts'))) {
      for (const spec of importsOf(readFileSync(file, 'utf8'))) {
        if (spec.startsWith('.') || spec.startsWith('node:')) continue;
        const pkg = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : (spec.split('/')[0] as string);
        if (!declared.includes(pkg)) problems.push(`${relative(root, file)}: ${pkg}`);
      }
    }
  }
  expect(problems).toEqual([]);
});
