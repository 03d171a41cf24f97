// Every declared dependency is used: a library's are imported by its own files (or, for @types/x, x is), and each
// root devDependency is named somewhere in the tracked files besides the manifests (an import, a binary, a schema
// path, a config). A package that nothing names is one to remove (`npm uninstall`), not to keep installing.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { root } from '@dtm-gozero/devkit';
import { expect, test } from 'vitest';

const tracked = execFileSync('git', ['ls-files', '-co', '--exclude-standard'], { cwd: root, encoding: 'utf8' })
  .split('\n')
  .filter((f) => f && !/(^|\/)package(-lock)?\.json$/.test(f) && !f.startsWith('.cache/'));

function read(f: string): string {
  try {
    return readFileSync(join(root, f), 'utf8');
  } catch {
    return ''; // deleted in the work tree, or not text we can read
  }
}

/** Every workspace folder (the root package.json's globs), so a new package is checked without being listed here. */
const workspaces = (JSON.parse(read('package.json')) as { workspaces: string[] }).workspaces.flatMap((g) =>
  g.endsWith('/*')
    ? tracked.flatMap((f) => {
        const m = new RegExp(`^(${g.slice(0, -2).replace(/[/.]/g, '\\$&')}/[^/]+)/src/`).exec(f);
        return m ? [m[1] as string] : [];
      })
    : [g],
);

test.each([...new Set(workspaces)])('%s imports every package it declares', (dir) => {
  const m = JSON.parse(read(`${dir}/package.json`)) as Record<string, Record<string, string> | undefined>;
  const declared = Object.keys({ ...m.dependencies, ...m.devDependencies, ...m.peerDependencies });
  const code = tracked
    .filter((f) => f.startsWith(`${dir}/`) && /\.(ts|sh)$/.test(f))
    .map(read)
    .join('\n');
  // A package can be declared only to fill a dependency's optional peer (apps/app installs
  // @kubernetes/client-node so that gozero's k8s:// targets work): that is a use.
  const peers = new Set(
    declared.flatMap((d) => {
      const dm = JSON.parse(read(`node_modules/${d}/package.json`) || '{}') as { peerDependencies?: object };
      return Object.keys(dm.peerDependencies ?? {});
    }),
  );
  const unused = declared.filter((pkg) => {
    if (peers.has(pkg)) return false;
    const name = pkg.startsWith('@types/') ? pkg.slice('@types/'.length) : pkg;
    return !new RegExp(`['"\`]${name.replace(/[/.]/g, '\\$&')}(/[^'"\`]*)?['"\`]`).test(code);
  });
  expect(unused).toEqual([]);
});

test('every root devDependency is named in a tracked file besides the manifests', () => {
  const m = JSON.parse(read('package.json')) as { devDependencies: Record<string, string> };
  const text = tracked.map(read).join('\n');
  // A tool is named by its binary, e.g. @bufbuild/buf by `buf`.
  const bins = (pkg: string): string[] => {
    const bin = (JSON.parse(read(`node_modules/${pkg}/package.json`) || '{}') as { bin?: string | object }).bin;
    return typeof bin === 'string' ? [pkg.split('/').pop() as string] : Object.keys(bin ?? {});
  };
  const esc = (n: string): string => n.replace(/[/.]/g, '\\$&');
  const unused = Object.keys(m.devDependencies).filter((pkg) => {
    const name = pkg.startsWith('@types/') ? pkg.slice('@types/'.length) : pkg;
    // quoted (an import, a `types` entry, a binary run by name), a node_modules path, `npx <binary>`, or a buf plugin
    const forms = [name, ...bins(pkg)].map((n) => `['"\`]${esc(n)}(/[^'"\`]*)?['"\`]|(npx|local:) ${esc(n)}\\b`);
    return !new RegExp([`node_modules/${esc(pkg)}/`, ...forms].join('|')).test(text);
  });
  expect(unused).toEqual([]);
});
