// Generates TypeScript from the project's .proto files with buf (binary from npm) and local plugins: ts-proto for
// the libraries, protoc-gen-es for the bench's Connect client variant. `--check` generates into a temp dir and fails if the committed output differs (stale code).
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const root = join(import.meta.dirname, '..');
const bin = join(root, 'node_modules', '.bin');

/** The proto files of each folder of committed generated code (one buf run per folder: it replaces the folder). */
const targets = [
  { protos: ['trans.proto'], out: 'proto/gen', template: 'buf.gen.yaml' },
  { protos: ['dtmgimp.proto', 'workflow.proto'], out: 'libs/dtmgrpc/src/gen', template: 'buf.gen.yaml' },
  { protos: ['dtmgimp.proto', 'trans.proto'], out: 'tools/bench/src/gen', template: 'buf.gen.es.yaml' },
];

function generate(protos: string[], outDir: string, template: string): void {
  const paths = protos.flatMap((p) => ['--path', p]);
  execFileSync(join(bin, 'buf'), ['generate', '--template', template, ...paths, '-o', outDir, '.'], {
    cwd: join(root, 'proto'),
    stdio: 'inherit',
    env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
  });
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  try {
    walk(dir);
  } catch {
    return [];
  }
  return out.sort();
}

const check = process.argv.includes('--check');
const stale: string[] = [];
for (const t of targets) {
  const tmp = mkdtempSync(join(tmpdir(), 'proto-gen-'));
  try {
    generate(t.protos, tmp, t.template);
    const fresh = join(tmp, 'gen');
    const committed = join(root, t.out);
    if (check) {
      const a = listFiles(fresh);
      const b = listFiles(committed);
      if (a.join('\n') !== b.join('\n')) stale.push(`${t.out}: files differ (${a.join(', ')} vs ${b.join(', ')})`);
      for (const f of a) {
        if (b.includes(f) && readFileSync(join(fresh, f), 'utf8') !== readFileSync(join(committed, f), 'utf8')) {
          stale.push(`${t.out}/${f}`);
        }
      }
    } else {
      rmSync(committed, { recursive: true, force: true });
      cpSync(fresh, committed, { recursive: true });
      console.log(`generated ${t.out} from proto/${t.protos.join(', proto/')}`);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
if (stale.length > 0) {
  console.error(`Generated code is stale; run \`npm run proto\` and commit the result:\n  ${stale.join('\n  ')}`);
  process.exit(1);
}
if (check) console.log('generated code is up to date');
