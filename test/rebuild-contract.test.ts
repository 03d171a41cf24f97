// What docker-compose.yml, the Dockerfile and the testkit's docker backend use of each official image, against what
// the local rebuild of that image provides (infra/rebuild/images.json, built by scripts/docker-images.sh). Fails
// when the project names an image that has no rebuild, or starts using a program, variable, path or user of an
// image that its rebuild does not provide. test/integration/rebuild-images.int.test.ts checks the built images
// against the same list.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { containerSpecs, IMAGES } from '../libs/testkit/src/docker.ts';
import { readSharedDtmConfig } from '../libs/testkit/src/dtm-config.ts';

const root = join(import.meta.dirname, '..');
const read = (path: string): string => readFileSync(join(root, path), 'utf8');

interface Provides {
  executables: string[];
  env: string[] | string;
  files: string[];
  user: string;
  users?: string[];
}
const manifest = JSON.parse(read('infra/rebuild/images.json')) as {
  images: Record<string, { dir: string; from: string; provides: Provides }>;
};

/** What the project uses of one image. */
interface Usage {
  executables: Set<string>;
  env: Set<string>;
  files: Set<string>;
  users: Set<string>;
  by: Set<string>;
}
const usage = new Map<string, Usage>();
function use(image: string, by: string): Usage {
  let u = usage.get(image);
  if (!u) {
    u = { executables: new Set(), env: new Set(), files: new Set(), users: new Set(), by: new Set() };
    usage.set(image, u);
  }
  u.by.add(by);
  return u;
}

/** The programs a shell command line runs: the first word of each segment, after VAR=value assignments. */
function shellPrograms(line: string): string[] {
  return line
    .split(/&&|\|\||[;|]/)
    .map(
      (seg) =>
        seg
          .trim()
          .split(/\s+/)
          .filter((w) => !/^[A-Za-z_][A-Za-z0-9_]*=/.test(w))[0],
    )
    .filter((w): w is string => w !== undefined && w !== '');
}

// ---- docker-compose.yml ----
interface Service {
  image?: string;
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, unknown>;
  volumes?: string[];
  tmpfs?: string[];
  user?: string;
  healthcheck?: { test?: string[] };
}
const compose = parse(read('docker-compose.yml')) as { services: Record<string, Service> };
for (const [name, s] of Object.entries(compose.services)) {
  if (!s.image) continue;
  const u = use(s.image, `docker-compose.yml ${name}`);
  const argv0 = s.entrypoint?.[0] ?? s.command?.[0];
  if (argv0 && !argv0.startsWith('-')) u.executables.add(argv0);
  for (const k of Object.keys(s.environment ?? {})) u.env.add(k);
  for (const v of s.volumes ?? []) u.files.add(v.split(':')[1] as string);
  for (const t of s.tmpfs ?? []) u.files.add(t.split(':')[0] as string);
  if (s.user) u.users.add(s.user);
  const hc = s.healthcheck?.test ?? [];
  if (hc[0] === 'CMD') u.executables.add(hc[1] as string);
  if (hc[0] === 'CMD-SHELL') for (const p of shellPrograms(hc.slice(1).join(' '))) u.executables.add(p);
}

// ---- Dockerfile: the base images of its stages, and what its instructions run on them ----
const dockerfile = read('Dockerfile')
  .replace(/\\\n/g, ' ')
  .split('\n')
  .filter((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
const stageImage = new Map<string, string>();
let current: Usage | undefined;
for (const line of dockerfile) {
  const [instr = '', ...rest] = line.trim().split(/\s+/);
  const args = rest.join(' ');
  if (instr === 'FROM') {
    const m = /^(\S+)(?:\s+AS\s+(\S+))?/i.exec(args);
    const from = m?.[1] as string;
    const image = stageImage.get(from) ?? from;
    if (m?.[2]) stageImage.set(m[2], image);
    current = use(image, 'Dockerfile');
    continue;
  }
  if (!current) continue;
  const exec = args.replace(/^--\S+\s+/g, '');
  const progs = (cmd: string): string[] =>
    cmd.startsWith('[') ? [(JSON.parse(cmd) as string[])[0] as string] : shellPrograms(cmd);
  if (instr === 'RUN' || instr === 'CMD' || instr === 'ENTRYPOINT')
    for (const p of progs(exec)) current.executables.add(p);
  if (instr === 'HEALTHCHECK' && /\bCMD\s/.test(args)) {
    for (const p of progs(args.slice(args.indexOf('CMD ') + 4).trim())) current.executables.add(p);
  }
  if (instr === 'USER') current.users.add(args);
}

// ---- the testkit's docker backend ----
for (const store of ['boltdb', 'mysql', 'redis'] as const) {
  const specs = containerSpecs({
    id: 'x',
    store,
    shared: readSharedDtmConfig(),
    ports: { etcdClient: 1, etcdPeer: 2, dtmHttp: 3, dtmGrpc: 4, store: 5 },
    mysqlPassword: 'p',
    mysqlDdl: '',
  });
  for (const s of specs) {
    const u = use(s.image, `testkit ${s.role}`);
    const argv0 = s.command[0];
    if (argv0 && !argv0.startsWith('-')) u.executables.add(argv0);
    for (const k of Object.keys(s.env)) u.env.add(k);
    for (const f of s.files) u.files.add(f.target);
    for (const t of Object.keys(s.tmpfs)) u.files.add(t);
  }
}

const covers = (provided: string[], path: string): boolean =>
  provided.some((p) => p === path || (p.endsWith('/') && (`${path}/` === p || path.startsWith(p))));

describe('local rebuilds cover what the project uses of each official image', () => {
  test('the usage scan finds what it should (the scan itself works)', () => {
    expect(usage.get(IMAGES.etcd)?.executables).toEqual(new Set(['/usr/local/bin/etcd', '/usr/local/bin/etcdctl']));
    expect(usage.get(IMAGES.mysql)?.executables).toEqual(new Set(['mariadb']));
    expect(usage.get(IMAGES.mysql)?.files).toContain('/docker-entrypoint-initdb.d/01-dtm-storage.sql');
    expect(usage.get(IMAGES.dtm)?.executables).toEqual(new Set(['wget']));
    expect(usage.get('node:24.21.0-slim')?.executables).toEqual(new Set(['npm', 'node', 'sh']));
    expect(usage.get('node:24.21.0-slim')?.users).toEqual(new Set(['node']));
    expect(shellPrograms('A=1 B="x" mariadb -e "q" >/dev/null && wget -q x | tee y')).toEqual([
      'mariadb',
      'wget',
      'tee',
    ]);
  });

  test('every image the project names has a rebuild, and every rebuild is of an image the project names', () => {
    expect([...usage.keys()].sort()).toEqual(Object.keys(manifest.images).sort());
    for (const image of Object.values(IMAGES)) expect(Object.keys(manifest.images)).toContain(image);
  });

  for (const [image, { provides, dir }] of Object.entries(manifest.images)) {
    test(`${image}: programs, variables, paths and users used are provided (infra/rebuild/${dir})`, () => {
      const u = usage.get(image);
      expect(u, `${image} is not used`).toBeDefined();
      if (!u) return;
      const exe = new Set(provides.executables);
      for (const e of u.executables) expect(exe.has(e), `${image}: ${e} (used by ${[...u.by].join(', ')})`).toBe(true);
      if (Array.isArray(provides.env)) {
        for (const k of u.env) expect(provides.env, `${image}: env ${k}`).toContain(k);
      } else {
        expect(provides.env, `${image}: env is read by the upstream program itself`).toMatch(/^any: /);
      }
      for (const f of u.files) expect(covers(provides.files, f), `${image}: path ${f}`).toBe(true);
      for (const user of u.users) expect([provides.user, ...(provides.users ?? [])], `${image}: user`).toContain(user);
    });
  }

  test('each rebuild names its official image, and its version is the tag', () => {
    for (const [image, { dir }] of Object.entries(manifest.images)) {
      const recipe = read(`infra/rebuild/${dir}/Dockerfile`);
      expect(recipe, image).toMatch(/^# Local rebuild of /);
      expect(recipe, image).toContain('ARG VERSION');
      expect(recipe, `${image} checks its version`).toMatch(/grep -q[x]? "[^"]*\$\{VERSION/);
    }
  });
});
