// `npm run pack`: builds the published packages (tsc -b: JavaScript, .d.ts, source maps) and packs each with
// `npm pack`, from a staging folder per package whose package.json points `exports` at dist/ (types first); the
// monorepo itself keeps running the sources. `--publish-dry-run` also runs `npm publish --dry-run` in each.
//   node scripts/pack-libs.ts [--out <dir>] [--publish-dry-run]
// Prints the tarball paths, one a line, on stdout (progress goes to stderr).
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const root = join(import.meta.dirname, '..');

/** The published packages, in dependency order, and what each ships besides dist/ and its README. */
export const PACKAGES: readonly { dir: string; extra: readonly [from: string, to: string][] }[] = [
  { dir: 'proto', extra: [['proto/trans.proto', 'trans.proto']] },
  { dir: 'libs/gozero', extra: [] },
  {
    dir: 'libs/dtmgrpc',
    extra: [
      ['libs/dtmgrpc/sql', 'sql'],
      ['libs/dtmgrpc/BARRIER.md', 'BARRIER.md'],
    ],
  },
  {
    dir: 'libs/testkit',
    // The files the testkit reads from infra/ in this repository (paths.ts) travel in its assets/.
    extra: [
      ['infra/dtm/config.yml', 'assets/dtm-config.yml'],
      ['infra/mysql/initdb/01-dtm-storage.sql', 'assets/dtm-mysql-storage.sql'],
      // startEtcd's certificate generator (etcd.ts runs it from ../scripts).
      ['libs/testkit/scripts', 'scripts'],
    ],
  },
];

type Manifest = Record<string, unknown> & {
  name: string;
  version: string;
  /** Code entries (`{ types, default }` on the sources) and plain files (`'./sql/*'`, shipped as they are). */
  exports: Record<string, { types: string; default: string } | string>;
  scripts?: Record<string, string>;
  sideEffects?: boolean | string[];
};

/** `./src/x.ts` or `./gen/x.ts` → the built file in dist/ with extension `ext`. */
const toDist = (p: string, ext: '.js' | '.d.ts'): string =>
  p.replace(/^\.\/(src|gen)\//, './dist/').replace(/\.ts$/, ext);

/**
 * The manifest as published: not private, `exports` and `sideEffects` on dist/, no devDependencies, and without
 * the `prepack` guard that makes a bare `npm pack` in the package folder refuse (this script packs the staged copy).
 */
export function publishedManifest(m: Manifest): Manifest {
  const { private: _private, devDependencies: _dev, scripts, ...rest } = m;
  const exports: Manifest['exports'] = {};
  for (const [k, v] of Object.entries(m.exports)) {
    exports[k] = typeof v === 'string' ? v : { types: toDist(v.types, '.d.ts'), default: toDist(v.default, '.js') };
  }
  const { prepack: _prepack, ...otherScripts } = scripts ?? {};
  const out: Manifest = { ...rest, exports };
  if (Object.keys(otherScripts).length > 0) out.scripts = otherScripts;
  if (Array.isArray(m.sideEffects)) out.sideEffects = m.sideEffects.filter((f) => f.startsWith('./dist/'));
  return out;
}

/** Runs a command; its stderr (npm's notices) is shown only when it fails. */
/**
 * Declaration files keep the `./x.ts` specifiers of the sources (tsc rewrites them in the JavaScript only); a
 * consumer's TypeScript may not accept those, so they become `./x.js`, as in the emitted JavaScript.
 */
export function jsSpecifiers(dts: string): string {
  return dts.replace(/((?:from|import)\s*\(?\s*)(['"])(\.{1,2}\/[^'"]+)\.ts\2/g, '$1$2$3.js$2');
}

function rewriteDeclarations(dir: string): void {
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile() || !e.name.endsWith('.d.ts')) continue;
    const f = join(e.parentPath, e.name);
    writeFileSync(f, jsSpecifiers(readFileSync(f, 'utf8')));
  }
}

function run(cmd: string, args: string[], cwd: string): string {
  try {
    return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string };
    throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`, { cause: err });
  }
}

function main(): void {
  const { values } = parseArgs({
    options: { out: { type: 'string', default: join(root, '.cache', 'pack') }, 'publish-dry-run': { type: 'boolean' } },
  });
  const out = resolve(values.out as string);
  // A clean build: a file whose source is gone must not be packed.
  for (const p of PACKAGES) {
    rmSync(join(root, p.dir, 'dist'), { recursive: true, force: true });
    rmSync(join(root, p.dir, 'tsconfig.build.tsbuildinfo'), { force: true });
  }
  process.stderr.write('pack: tsc -b tsconfig.build.json\n');
  run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-b', 'tsconfig.build.json'], root);
  rmSync(join(out, 'stage'), { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const tarballs: string[] = [];
  for (const p of PACKAGES) {
    const src = join(root, p.dir);
    const manifest = JSON.parse(readFileSync(join(src, 'package.json'), 'utf8')) as Manifest;
    const stage = join(out, 'stage', manifest.name.replace(/^@[^/]+\//, ''));
    mkdirSync(stage, { recursive: true });
    cpSync(join(src, 'dist'), join(stage, 'dist'), { recursive: true });
    rewriteDeclarations(join(stage, 'dist'));
    // The sources the source maps point at (tests left out).
    const srcDir = p.dir === 'proto' ? 'gen' : 'src';
    cpSync(join(src, srcDir), join(stage, srcDir), { recursive: true, filter: (f) => !f.endsWith('.test.ts') });
    for (const f of ['README.md']) if (existsSync(join(src, f))) cpSync(join(src, f), join(stage, f));
    cpSync(join(root, 'LICENSE'), join(stage, 'LICENSE'));
    for (const [from, to] of p.extra) cpSync(join(root, from), join(stage, to), { recursive: true });
    writeFileSync(join(stage, 'package.json'), `${JSON.stringify(publishedManifest(manifest), null, 2)}\n`);
    const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', out], stage)) as {
      filename: string;
    }[];
    const file = join(out, (packed[0] as { filename: string }).filename);
    process.stderr.write(`pack: ${file}\n`);
    tarballs.push(file);
    if (values['publish-dry-run']) {
      run('npm', ['publish', '--dry-run', '--access', 'public', '--tag', 'next'], stage);
      process.stderr.write(`pack: npm publish --dry-run ${manifest.name}: ok\n`);
    }
  }
  process.stdout.write(`${tarballs.join('\n')}\n`);
}

if (import.meta.main) main();
