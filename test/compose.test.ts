// Checks of the Docker setup that need no Docker engine: docker-compose.yml against the compose specification,
// pinned images, the Dockerfile's COPY sources against the repository and .dockerignore, and that the compose
// stack and the local stack (scripts/stack.sh) run dtm with the same settings from infra/dtm/config.yml, and the
// port preflight (infra/docker/port-preflight.ts) that runs before the compose stack.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createRequire } from 'node:module';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { freePorts } from '@dtm-gozero/devkit';
import { Ajv } from 'ajv';
import { DCLinter } from 'dclint';
import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';

const root = join(import.meta.dirname, '..');
const read = (path: string): string => readFileSync(join(root, path), 'utf8');

type Dict = Record<string, unknown>;
interface Service {
  image?: string;
  build?: string | { context?: string; dockerfile?: string; target?: string };
  command?: string[] | string;
  environment?: Dict | string[];
  volumes?: (string | { source?: string; target?: string })[];
  depends_on?: string[] | Record<string, { condition: string; required?: boolean }>;
  healthcheck?: { test?: string[] | string; disable?: boolean };
  network_mode?: string;
  profiles?: string[];
  ports?: unknown[];
  restart?: string;
}
const compose = parse(read('docker-compose.yml')) as { services: Record<string, Service>; volumes?: Dict };
const services = compose.services;

// ---------- helpers ----------

/** An exact version tag (1.19.0, v3.4.23, 24.21.0-slim), optionally with a digest; never latest or a bare name. */
const PINNED = /^(?:[a-z0-9.-]+(?::\d+)?\/)?[a-z0-9._/-]+:v?\d+\.\d+\.\d+(?:-[a-z0-9.-]+)?(?:@sha256:[0-9a-f]{64})?$/;

function envOf(s: Service): Record<string, string> {
  const env: Record<string, string> = {};
  if (Array.isArray(s.environment)) {
    for (const kv of s.environment) {
      const i = kv.indexOf('=');
      env[i < 0 ? kv : kv.slice(0, i)] = i < 0 ? '' : kv.slice(i + 1);
    }
  } else {
    for (const [k, v] of Object.entries(s.environment ?? {})) env[k] = v === null ? '' : String(v);
  }
  return env;
}

/** Compose's `${VAR:-default}` interpolation, with the defaults (what `docker compose up` uses when VAR is unset). */
function interpolate(text: string): string {
  return text.replace(/\$\{(\w+)(?::?-([^}]*))?\}/g, (_, name: string, def: string | undefined) => {
    return process.env[name] ?? def ?? '';
  });
}

/** A service's command as a list of arguments. */
function commandOf(name: string): string[] {
  const c = services[name]?.command;
  return Array.isArray(c) ? c : typeof c === 'string' ? c.split(/\s+/) : [];
}

function bindMounts(s: Service): { source: string; target: string }[] {
  return (s.volumes ?? []).flatMap((v) => {
    if (typeof v !== 'string') return v.source && v.target ? [{ source: v.source, target: v.target }] : [];
    const [source = '', target = ''] = v.split(':');
    return source.startsWith('.') ? [{ source, target }] : [];
  });
}

interface Instruction {
  stage: string;
  keyword: string;
  args: string;
}

/** Dockerfile instructions with continuation lines joined and comments dropped; each tagged with its stage name. */
function dockerfile(path: string): Instruction[] {
  const out: Instruction[] = [];
  let stage = '';
  let pending = '';
  for (const raw of read(path).split('\n')) {
    const line = raw.trim();
    // Blank and comment lines are skipped, also inside a continued instruction (as BuildKit does).
    if (line === '' || line.startsWith('#')) continue;
    pending += `${line.replace(/\\$/, '')} `;
    if (line.endsWith('\\')) continue;
    const m = /^(\w+)\s+(.*)$/.exec(pending.trim());
    pending = '';
    if (!m) continue;
    const keyword = (m[1] as string).toUpperCase();
    const args = (m[2] as string).trim();
    if (keyword === 'FROM') stage = /\sAS\s+(\S+)/i.exec(args)?.[1] ?? '';
    out.push({ stage, keyword, args });
  }
  return out;
}

/** A COPY/ADD's flags, sources and destination (shell or JSON form). */
function copyParts(args: string): { flags: string[]; sources: string[]; dest: string } {
  const words = args.startsWith('[') ? (JSON.parse(args) as string[]) : args.split(/\s+/);
  const flags = words.filter((w) => w.startsWith('--'));
  const rest = words.filter((w) => !w.startsWith('--'));
  return { flags, sources: rest.slice(0, -1), dest: rest.at(-1) ?? '' };
}

/** Build-context paths a Dockerfile COPYs (not those copied from another stage). */
function contextCopies(ins: Instruction[]): { stage: string; source: string }[] {
  return ins
    .filter((i) => i.keyword === 'COPY' || i.keyword === 'ADD')
    .map((i) => ({ stage: i.stage, ...copyParts(i.args) }))
    .filter((c) => !c.flags.some((f) => f.startsWith('--from')))
    .flatMap((c) => c.sources.map((source) => ({ stage: c.stage, source })));
}

/** .dockerignore semantics (moby/patternmatcher): the last pattern matching a path or one of its parents wins. */
function dockerignore(text: string): (path: string) => boolean {
  const rules = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const pattern = posix.normalize(l.slice(negate ? 1 : 0).trim()).replace(/^\/+|\/+$/g, '');
      let re = '';
      for (let i = 0; i < pattern.length; i++) {
        const ch = pattern[i] as string;
        if (ch === '*' && pattern[i + 1] === '*') {
          i++;
          if (pattern[i + 1] === '/') {
            i++;
            re += '(?:.*/)?';
          } else {
            re += '.*';
          }
        } else if (ch === '*') re += '[^/]*';
        else if (ch === '?') re += '[^/]';
        else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
      }
      return { negate, pattern, re: new RegExp(`^${re}$`) };
    });
  const excludedAlone = (prefixes: string[]): boolean => {
    let excluded = false;
    for (const r of rules) if (prefixes.some((p) => r.re.test(p))) excluded = !r.negate;
    return excluded;
  };
  return (path: string) => {
    const parts = posix
      .normalize(path)
      .replace(/^\/+|\/+$/g, '')
      .split('/');
    const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
    // The classic builder (DOCKER_BUILDKIT=0, what compose.int and Debian's docker.io use) never walks into an
    // excluded directory unless an exception's literal text starts with that directory: `!tools/*/package.json`
    // cannot re-include tools/chaos/package.json, `!tools/chaos/package.json` can.
    for (let i = 0; i < prefixes.length - 1; i++) {
      const dir = prefixes.slice(0, i + 1);
      const dirSlash = `${dir.at(-1)}/`;
      if (excludedAlone(dir) && !rules.some((r) => r.negate && `${r.pattern}/`.startsWith(dirSlash))) return false;
    }
    return !excludedAlone(prefixes);
  };
}

function filesUnder(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) => {
    if (e.name === 'node_modules' || e.name === '.git') return [];
    const rel = posix.join(dir, e.name);
    return e.isDirectory() ? filesUnder(rel) : [rel];
  });
}

/** Workspace folders of the root package.json ("proto", "libs/*", "apps/*"), those holding a package.json. */
function workspaces(): string[] {
  const globs = (JSON.parse(read('package.json')) as { workspaces: string[] }).workspaces;
  return globs.flatMap((g) => {
    if (!g.endsWith('/*')) return existsSync(join(root, g, 'package.json')) ? [g] : [];
    const parent = g.slice(0, -2);
    return readdirSync(join(root, parent))
      .map((d) => `${parent}/${d}`)
      .filter((d) => existsSync(join(root, d, 'package.json')));
  });
}

// dtm v1.19.0's configuration keys (dtmsvr/config/config.go), with their exact YAML spelling: yaml.v3 matches
// them case-sensitively, so `Endpoint` instead of `EndPoint` would be silently ignored.
const DTM_KEYS: Dict = {
  Store: {
    Driver: 0,
    Host: 0,
    Port: 0,
    User: 0,
    Password: 0,
    Db: 0,
    Schema: 0,
    MaxOpenConns: 0,
    MaxIdleConns: 0,
    ConnMaxLifeTime: 0,
    DataExpire: 0,
    FinishedDataExpire: 0,
    RedisPrefix: 0,
  },
  TransCronInterval: 0,
  TimeoutToFail: 0,
  RetryInterval: 0,
  RequestTimeout: 0,
  HttpPort: 0,
  GrpcPort: 0,
  JsonRpcPort: 0,
  MicroService: { Driver: 0, Target: 0, EndPoint: 0 },
  HttpMicroService: { Driver: 0, RegistryType: 0, RegistryAddress: 0, RegistryOptions: 0, Target: 0, EndPoint: 0 },
  UpdateBranchSync: 0,
  UpdateBranchAsyncGoroutineNum: 0,
  LogLevel: 0,
  Log: { Outputs: 0, RotationEnable: 0, RotationConfigJSON: 0 },
  TimeZoneOffset: 0,
  ConfigUpdateInterval: 0,
  AlertRetryLimit: 0,
  AlertWebHook: 0,
  AdminBasePath: 0,
};

/** Leaf key paths of a nested mapping. */
function leaves(obj: Dict, prefix: string[] = []): string[][] {
  return Object.entries(obj).flatMap(([k, v]) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? leaves(v as Dict, [...prefix, k]) : [[...prefix, k]],
  );
}

/** dtm's environment variable for a key path (config_utils.go): MicroService.EndPoint -> MICRO_SERVICE_END_POINT. */
function dtmEnvName(path: string[]): string {
  return path
    .join('_')
    .replace(/^_+|_+$/g, '')
    .replace(/([A-Z])([A-Z][a-z])/g, '$1_$2')
    .replace(/([a-z])([A-Z]+)/g, '$1_$2')
    .toUpperCase();
}

/** host:port of an address or URL, with localhost and 127.0.0.1 taken as the same host. */
function hostPort(address: string): string {
  const hp = address.replace(/^\w+:\/\//, '').split('/')[0] as string;
  return hp.replace(/^localhost:/, '127.0.0.1:');
}

// ---------- the compose file ----------

describe('docker-compose.yml', () => {
  test('is valid against the compose specification', () => {
    // The compose-spec JSON schema (draft-07) as shipped in the dclint package.
    const pkg = createRequire(import.meta.url).resolve('dclint/package.json');
    const schema = JSON.parse(readFileSync(join(dirname(pkg), 'schemas', 'compose.schema.json'), 'utf8')) as Dict;
    expect(schema.$schema).toMatch(/draft-07/);
    // ajv bundles the draft-07 meta-schema under its http:// id.
    const ajv = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true });
    const validate = ajv.compile({ ...schema, $schema: 'http://json-schema.org/draft-07/schema#' });
    const errors = (doc: unknown): string[] =>
      validate(doc) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`);

    expect(errors(compose)).toEqual([]);
    // The schema is not vacuous: a misspelt key and an unknown depends_on condition are rejected.
    const broken = structuredClone(compose) as { services: Record<string, Dict> };
    (broken.services.dtm as Dict).helthcheck = (broken.services.dtm as Dict).healthcheck;
    expect(errors(broken).join('\n')).toContain('/services/dtm must NOT have additional properties');
    const broken2 = structuredClone(compose) as { services: Record<string, Service> };
    (broken2.services.app?.depends_on as Record<string, { condition: string }>).trans = { condition: 'service_ready' };
    expect(errors(broken2).join('\n')).toContain('condition must be equal to one of the allowed values');
  });

  test('passes dclint (compose linter) with its default rules', () => {
    // Services stay in start-up order rather than alphabetical order.
    const linter = new DCLinter({
      rules: { 'services-alphabetical-order': 0 },
      quiet: true,
      debug: false,
      exclude: [],
    });
    const [result] = linter.lintFiles([join(root, 'docker-compose.yml')], false);
    const messages: { line: number; rule: string; message: string }[] = result?.messages ?? [];
    expect(messages.map((m) => `${m.line}: ${m.rule}: ${m.message}`)).toEqual([]);
  });

  test('pins every image to an exact version tag', () => {
    for (const [name, s] of Object.entries(services)) {
      expect(s.image !== undefined || s.build !== undefined, `${name} has an image or a build`).toBe(true);
      if (s.image !== undefined && s.build === undefined) expect(s.image, name).toMatch(PINNED);
    }
    // The base images of the Dockerfile too (FROM of a stage name is not an image).
    const ins = dockerfile('Dockerfile');
    const stages = new Set(ins.filter((i) => i.keyword === 'FROM').map((i) => i.stage));
    for (const from of ins.filter((i) => i.keyword === 'FROM')) {
      const image = from.args.split(/\s+/).find((w) => !w.startsWith('--')) as string;
      if (!stages.has(image)) expect(image, `Dockerfile FROM ${image}`).toMatch(PINNED);
    }
  });

  test('runs dtm 1.19.x (the version this port is written against)', () => {
    expect(services.dtm?.image).toMatch(/^yedf\/dtm:1\.19\.\d+$/);
  });

  test('waits on health: dtm for etcd and MySQL, trans for etcd, the app for dtm and trans', () => {
    const conditions = (name: string): Record<string, string> =>
      Object.fromEntries(
        Object.entries((services[name]?.depends_on ?? {}) as Record<string, { condition: string }>).map(([k, v]) => [
          k,
          v.condition,
        ]),
      );
    expect(conditions('dtm')).toEqual({ etcd: 'service_healthy', mysql: 'service_healthy' });
    expect(conditions('trans')).toMatchObject({ etcd: 'service_healthy' });
    expect(conditions('app')).toMatchObject({ dtm: 'service_healthy', trans: 'service_healthy' });
    // Every service waited on as healthy has a healthcheck: in compose, or its image's HEALTHCHECK.
    const ins = dockerfile('Dockerfile');
    for (const name of Object.keys(services)) {
      for (const [dep, cond] of Object.entries(conditions(name))) {
        if (cond !== 'service_healthy') continue;
        const d = services[dep] as Service;
        const target = typeof d.build === 'object' ? d.build.target : undefined;
        const fromImage = ins.some((i) => i.keyword === 'HEALTHCHECK' && i.stage === target && !/^NONE/i.test(i.args));
        expect(d.healthcheck?.test !== undefined || fromImage, `${dep} has a healthcheck (${name} waits on it)`).toBe(
          true,
        );
      }
    }
    // The app is the one-shot service: it must not be restarted after it exits 0.
    expect(services.app?.restart).toBe('no');
  });

  test('starts nothing before the port preflight has completed successfully', () => {
    const deps = (name: string): Record<string, { condition: string }> =>
      (services[name]?.depends_on ?? {}) as Record<string, { condition: string }>;
    expect(services.preflight?.depends_on).toBeUndefined();
    // etcd and MySQL wait on it directly; every other service through them.
    for (const name of ['etcd', 'mysql']) {
      expect(deps(name).preflight, name).toEqual({ condition: 'service_completed_successfully' });
    }
    const reaches = (name: string, seen = new Set<string>()): boolean =>
      Object.keys(deps(name)).some((d) => d === 'preflight' || (!seen.has(d) && reaches(d, seen.add(d))));
    for (const name of Object.keys(services).filter((n) => n !== 'preflight')) {
      expect(reaches(name), `${name} depends on preflight`).toBe(true);
    }
    // A one-shot on the runtime image (Node 24, no HEALTHCHECK): exits, and is not restarted.
    expect(services.preflight?.build).toEqual({ context: '.', network: 'host', target: 'runtime' });
    expect(services.preflight?.restart).toBe('no');
    expect(services.preflight?.healthcheck).toBeUndefined();
    expect(commandOf('preflight').slice(0, 2)).toEqual(['node', 'infra/docker/port-preflight.ts']);
  });

  test('the preflight checks every port the stack listens on, bound as that service binds it', () => {
    const MYSQL_PORT = `\${DTM_MYSQL_PORT:-3307}`;
    const args = commandOf('preflight').map(interpolate);
    const checked = args.filter((a) => !a.startsWith('-') && a.includes('='));
    const conf = parse(read('infra/dtm/config.yml')) as { HttpPort: number; GrpcPort: number };
    const trans = parse(read('apps/trans/etc/trans.yaml')) as { ListenOn: string };
    const urlArg = (flag: string): string =>
      hostPort(
        commandOf('etcd')
          .find((a) => a.startsWith(flag))
          ?.split('=')[1] ?? '',
      );
    expect(checked.sort()).toEqual(
      [
        `etcd=${urlArg('--listen-client-urls=')}`,
        `etcd=${urlArg('--listen-peer-urls=')}`,
        `mysql=127.0.0.1:${interpolate(MYSQL_PORT)}`,
        // dtm listens on all interfaces (Go's ":port").
        `dtm=:${conf.HttpPort}`,
        `dtm=:${conf.GrpcPort}`,
        `trans=${trans.ListenOn.replace(/^localhost:/, '127.0.0.1:')}`,
      ].sort(),
    );
    // DTM_MYSQL_PORT moves MySQL's check along with MySQL.
    expect(commandOf('preflight')).toContain(`mysql=127.0.0.1:${MYSQL_PORT}`);
    expect(commandOf('mysql')).toContain(`--port=${MYSQL_PORT}`);
    // It recognises compose's own etcd by its member name, which the local stack's etcd does not have.
    const name = commandOf('etcd')
      .find((a) => a.startsWith('--name='))
      ?.slice('--name='.length);
    expect(args).toContain(`--own-etcd-name=${name}`);
    expect(commandOf('etcd')).toContain(`--initial-cluster=${name}=http://${urlArg('--listen-peer-urls=')}`);
    expect(read('scripts/stack.sh')).not.toContain(`--name ${name} `);
    expect(args).toContain(`--own-etcd=http://${urlArg('--advertise-client-urls=')}`);
  });

  test('shares the host network, so every address in configs and etcd is valid for every caller', () => {
    expect(Object.keys(services).sort()).toEqual([
      'app',
      'dtm',
      'etcd',
      'jaeger',
      'mysql',
      'preflight',
      'preflight-observe',
      'prometheus',
      'trans',
    ]);
    for (const name of Object.keys(services)) {
      expect(services[name]?.network_mode, name).toBe('host');
      // Publishing ports is meaningless (and rejected) with host networking.
      expect(services[name]?.ports, name).toBeUndefined();
    }
    // IS_DOCKER would make dtm rewrite localhost (its etcd target) to host.docker.internal.
    expect(envOf(services.dtm as Service)).not.toHaveProperty('IS_DOCKER');
    // Every server binds loopback: nothing of the stack is reachable from other machines.
    const etcdArgs = commandOf('etcd').join(' ');
    expect(etcdArgs).toContain('--listen-client-urls=http://127.0.0.1:2379');
    expect(interpolate(commandOf('mysql').join(' '))).toContain('--bind-address=127.0.0.1');
    const trans = parse(read('apps/trans/etc/trans.yaml')) as { ListenOn: string };
    expect(trans.ListenOn).toMatch(/^(127\.0\.0\.1|localhost):\d+$/);
  });

  test('gives etcd and MySQL named volumes, and MySQL the storage schema dtm needs', () => {
    for (const [name, path] of [
      ['etcd', '/var/lib/etcd'],
      ['mysql', '/var/lib/mysql'],
    ] as const) {
      const volume = (services[name]?.volumes ?? []).find((v) => typeof v === 'string' && v.endsWith(`:${path}`));
      expect(volume, `${name} keeps ${path} in a named volume`).toBeDefined();
      expect(compose.volumes ?? {}).toHaveProperty((volume as string).split(':')[0] as string);
    }
    const init = bindMounts(services.mysql as Service).find((m) => m.target.startsWith('/docker-entrypoint-initdb.d'));
    expect(init, 'MySQL mounts an init folder').toBeDefined();
    const dir = posix.normalize((init as { source: string }).source);
    const sql = readdirSync(join(root, dir))
      .filter((f) => f.endsWith('.sql'))
      .map((f) => read(posix.join(dir, f)))
      .join('\n');
    for (const table of ['trans_global', 'trans_branch_op', 'kv']) {
      expect(sql).toMatch(new RegExp(`CREATE TABLE IF NOT EXISTS dtm\\.${table} \\(`));
    }
    expect(sql).not.toMatch(/\bDROP\b/i);
    // The database the schema creates is the one dtm uses and MySQL grants to dtm's user.
    expect(envOf(services.mysql as Service).MARIADB_DATABASE).toBe('dtm');
    expect(envOf(services.dtm as Service).STORE_DB ?? 'dtm').toBe('dtm');
    expect(envOf(services.dtm as Service).STORE_USER).toBe(envOf(services.mysql as Service).MARIADB_USER);
    expect(envOf(services.dtm as Service).STORE_PASSWORD).toBe(envOf(services.mysql as Service).MARIADB_PASSWORD);
    expect(interpolate(`--port=${envOf(services.dtm as Service).STORE_PORT}`)).toBe(
      interpolate(commandOf('mysql').find((a) => a.startsWith('--port=')) ?? ''),
    );
  });
});

// ---------- the observe profile: Jaeger and Prometheus ----------

describe('docker compose --profile observe', () => {
  const OBSERVE = ['preflight-observe', 'jaeger', 'prometheus'];
  const jaeger = parse(read('infra/observe/jaeger.yaml')) as {
    receivers: { otlp: { protocols: Record<'grpc' | 'http', { endpoint: string }> } };
    extensions: { jaeger_query: Record<'http' | 'grpc', { endpoint: string }> };
  };
  const prom = parse(read('infra/observe/prometheus.yml')) as {
    scrape_configs: { job_name: string; metrics_path?: string; static_configs: { targets: string[] }[] }[];
  };
  const promListen = (commandOf('prometheus').find((a) => a.startsWith('--web.listen-address=')) ?? '').split('=')[1];
  const transObserve = parse(read('apps/trans/etc/trans-observe.yaml')) as {
    ListenOn: string;
    Telemetry: { Endpoint: string; Batcher: string };
    DevServer: { Host: string; Port: number };
  };
  const appObserve = parse(read('apps/app/etc/config-observe.yaml')) as { Telemetry: { Endpoint: string } };
  const conditions = (name: string) =>
    (services[name]?.depends_on ?? {}) as Record<string, { condition: string; required?: boolean }>;

  test('adds Jaeger and Prometheus (pinned, health-checked) and its preflight, in that profile only', () => {
    for (const [name, s] of Object.entries(services)) {
      expect(s.profiles, name).toEqual(OBSERVE.includes(name) ? ['observe'] : undefined);
    }
    expect(services.jaeger?.image).toMatch(/^jaegertracing\/jaeger:2\.12\.\d+$/);
    expect(services.prometheus?.image).toMatch(/^prom\/prometheus:v\d+\.\d+\.\d+$/);
    for (const name of ['jaeger', 'prometheus']) {
      expect(services[name]?.image, name).toMatch(PINNED);
      expect([services[name]?.healthcheck?.test ?? []].flat().join(' '), name).toMatch(
        /^CMD wget .*http:\/\/127\.0\.0\.1:/,
      );
      expect(services[name]?.restart, name).toBe('unless-stopped');
    }
    // Probed where each listens: Jaeger's query API, Prometheus's readiness.
    expect(services.jaeger?.healthcheck?.test).toContain(
      `http://${jaeger.extensions.jaeger_query.http.endpoint}/api/services`,
    );
    expect(services.prometheus?.healthcheck?.test).toContain(`http://${promListen}/-/ready`);
  });

  test('starts in order: preflight, preflight-observe, Jaeger and Prometheus; trans after a healthy Jaeger', () => {
    expect(conditions('preflight-observe')).toEqual({ preflight: { condition: 'service_completed_successfully' } });
    for (const name of ['jaeger', 'prometheus']) {
      expect(conditions(name), name).toEqual({ 'preflight-observe': { condition: 'service_completed_successfully' } });
    }
    // Only when the profile is on (required: false): without it, trans starts as before.
    expect(conditions('trans').jaeger).toEqual({ condition: 'service_healthy', required: false });
    expect(conditions('app')).toMatchObject({ trans: { condition: 'service_healthy' } });
    expect(services['preflight-observe']?.build).toEqual(services.preflight?.build);
    expect(services['preflight-observe']?.restart).toBe('no');
  });

  test('its preflight checks every port the profile adds, bound as those servers bind them', () => {
    const args = commandOf('preflight-observe');
    expect(args.slice(0, 2)).toEqual(['node', 'infra/docker/port-preflight.ts']);
    const checked = args.filter((a) => !a.startsWith('-') && a.includes('=')).sort();
    expect(checked).toEqual(
      [
        `jaeger=${jaeger.receivers.otlp.protocols.grpc.endpoint}`,
        `jaeger=${jaeger.receivers.otlp.protocols.http.endpoint}`,
        `jaeger=${jaeger.extensions.jaeger_query.http.endpoint}`,
        `jaeger=${jaeger.extensions.jaeger_query.grpc.endpoint}`,
        `prometheus=${promListen}`,
        `trans-devserver=${transObserve.DevServer.Host}:${transObserve.DevServer.Port}`,
      ].sort(),
    );
    // Loopback only, as the rest of the stack; none of them is a port of the default profile.
    for (const a of checked) expect(a, a).toMatch(/=127\.0\.0\.1:\d+$/);
    const base = new Set(commandOf('preflight').map((a) => a.split(':').at(-1)));
    for (const a of checked) expect(base.has(a.split(':').at(-1)), a).toBe(false);
    // The same own-etcd test as the default preflight: a running stack is not reported as holding its own ports.
    for (const flag of ['--own-etcd=', '--own-etcd-name=']) {
      expect(args.find((a) => a.startsWith(flag))).toBe(commandOf('preflight').find((a) => a.startsWith(flag)));
    }
  });

  test('wires trans and the app to Jaeger, and Prometheus to trans’s DevServer and dtm', () => {
    expect(transObserve.ListenOn).toBe((parse(read('apps/trans/etc/trans.yaml')) as { ListenOn: string }).ListenOn);
    expect(transObserve.Telemetry.Batcher).toBe('otlpgrpc');
    expect(transObserve.Telemetry.Endpoint).toBe(jaeger.receivers.otlp.protocols.grpc.endpoint);
    expect(appObserve.Telemetry.Endpoint).toBe(jaeger.receivers.otlp.protocols.grpc.endpoint);
    const targets = Object.fromEntries(
      prom.scrape_configs.map((c) => [c.job_name, `${c.static_configs[0]?.targets[0]}${c.metrics_path ?? '/metrics'}`]),
    );
    const dtmConf = parse(read('infra/dtm/config.yml')) as { HttpPort: number };
    expect(targets).toEqual({
      trans: `${transObserve.DevServer.Host}:${transObserve.DevServer.Port}/metrics`,
      dtm: `127.0.0.1:${dtmConf.HttpPort}/api/metrics`,
    });
    expect(bindMounts(services.jaeger as Service)).toEqual([
      { source: './infra/observe/jaeger.yaml', target: '/etc/jaeger/config.yaml' },
    ]);
    expect(commandOf('jaeger')).toEqual(['--config', '/etc/jaeger/config.yaml']);
    expect(bindMounts(services.prometheus as Service)).toEqual([
      { source: './infra/observe/prometheus.yml', target: '/etc/prometheus/prometheus.yml' },
    ]);
    expect(commandOf('prometheus')).toContain('--config.file=/etc/prometheus/prometheus.yml');
  });

  test('the profile flag: preflight clears it, preflight-observe sets it, trans and the app read it', () => {
    const flagArg = (name: string, opt: string) =>
      commandOf(name)
        .find((a) => a.startsWith(`--${opt}=`))
        ?.split('=')[1];
    const flag = flagArg('preflight', 'clear-flag') as string;
    expect(flagArg('preflight-observe', 'set-flag')).toBe(flag);
    expect(read('infra/docker/observe-profile.sh')).toContain(`FLAG="\${OBSERVE_PROFILE_FLAG:-${flag}}"`);
    // One volume holds it, writable by both preflights (the runtime image's user owns /home/node), read-only for the rest.
    const mount = (name: string) =>
      (services[name]?.volumes ?? []).find((v) => typeof v === 'string' && v.startsWith('profile:'));
    expect(mount('preflight')).toBe('profile:/home/node');
    expect(mount('preflight-observe')).toBe('profile:/home/node');
    expect(mount('trans')).toBe('profile:/home/node:ro');
    expect(mount('app')).toBe('profile:/home/node:ro');
    expect(posix.dirname(flag)).toBe('/home/node');
    expect(compose.volumes).toHaveProperty('profile');
  });
});

// ---------- infra/docker/observe-profile.sh: the entrypoint of trans and the app ----------

describe('infra/docker/observe-profile.sh', () => {
  const ins = dockerfile('Dockerfile');
  const included = dockerignore(read('.dockerignore'));

  /** Runs the script with `echo` as the command; resolves with its exit code and output. */
  function run(flag: string, args: string[], cwd = root): Promise<{ code: number; out: string; err: string }> {
    return new Promise((resolve) => {
      execFile(
        'sh',
        [join(root, 'infra/docker/observe-profile.sh'), 'echo', ...args],
        { timeout: 15_000, cwd, env: { ...process.env, OBSERVE_PROFILE_FLAG: flag } },
        (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, out: stdout, err: stderr }),
      );
    });
  }

  test('is the entrypoint of trans and the app; each image holds the -observe config of its -f', () => {
    for (const stage of ['trans', 'app']) {
      const entry = ins.filter((i) => i.stage === stage && i.keyword === 'ENTRYPOINT').map((i) => i.args);
      expect(entry, stage).toEqual(['["sh", "infra/docker/observe-profile.sh"]']);
      const cmd = JSON.parse(ins.find((i) => i.stage === stage && i.keyword === 'CMD')?.args ?? '[]') as string[];
      const file = cmd[cmd.indexOf('-f') + 1] as string;
      const observe = file.replace(/\.yaml$/, '-observe.yaml');
      expect(existsSync(join(root, observe)), observe).toBe(true);
      expect(included(observe), `${observe} is in the build context`).toBe(true);
    }
    expect(included('infra/docker/observe-profile.sh')).toBe(true);
  });

  test('without the flag runs the command unchanged; with it, on the -observe config; names a missing one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'observe-profile-'));
    const flag = join(dir, 'observe');
    try {
      const args = ['--max-semi-space-size=1', 'x.js', '-f', 'apps/trans/etc/trans.yaml'];
      expect(await run(flag, args)).toEqual({ code: 0, out: `${args.join(' ')}\n`, err: '' });
      writeFileSync(flag, '');
      const on = await run(flag, args);
      expect(on.out).toBe('--max-semi-space-size=1 x.js -f apps/trans/etc/trans-observe.yaml\n');
      expect(on.err).toContain('the observe profile is on: -f apps/trans/etc/trans-observe.yaml');
      expect((await run(flag, ['-f', 'apps/app/etc/config.yaml'])).out).toBe('-f apps/app/etc/config-observe.yaml\n');
      const missing = await run(flag, ['-f', 'etc/none.yaml']);
      expect(missing.code).toBe(1);
      expect(missing.err).toContain('etc/none-observe.yaml is missing from the image');
      expect(missing.out).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ---------- the Dockerfile ----------

describe('Dockerfile', () => {
  const ins = dockerfile('Dockerfile');
  const included = dockerignore(read('.dockerignore'));

  test('COPYs only paths that exist in the repository and are not excluded by .dockerignore', () => {
    const copies = contextCopies(ins);
    expect(copies.length).toBeGreaterThan(0);
    for (const { source } of copies) {
      const path = posix.normalize(source).replace(/\/$/, '');
      expect(existsSync(join(root, path)), `COPY ${source}: exists`).toBe(true);
      if (statSync(join(root, path)).isDirectory()) {
        expect(filesUnder(path).filter(included).length, `COPY ${source}: files in the build context`).toBeGreaterThan(
          0,
        );
      } else {
        expect(included(path), `COPY ${source}: not excluded by .dockerignore`).toBe(true);
      }
    }
  });

  test('installs with npm ci from every workspace manifest (npm ci checks the lockfile against all of them)', () => {
    const deps = contextCopies(ins)
      .filter((c) => c.stage === 'deps')
      .map((c) => c.source);
    expect(deps).toContain('package-lock.json');
    for (const ws of workspaces()) expect(deps, `deps stage copies ${ws}/package.json`).toContain(`${ws}/package.json`);
    const run = ins.filter((i) => i.stage === 'deps' && i.keyword === 'RUN').map((i) => i.args);
    expect(run.join('\n')).toMatch(/npm ci .*--omit=dev/);
  });

  test('runs as a non-root user, the files it starts are in the image, and the build targets exist', () => {
    const users = ins.filter((i) => i.keyword === 'USER').map((i) => i.args);
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)).not.toMatch(/^(root|0)(:|$)/);
    // Repository files named in CMD / HEALTHCHECK exist and are copied into the image.
    const copied = contextCopies(ins).map((c) => posix.normalize(c.source).replace(/\/$/, ''));
    const started = ins
      .filter((i) => i.keyword === 'CMD' || i.keyword === 'HEALTHCHECK')
      .flatMap((i) => i.args.match(/[\w./-]+\.(?:ts|yaml|yml)\b/g) ?? []);
    expect(started.length).toBeGreaterThan(0);
    for (const file of started) {
      expect(existsSync(join(root, file)), `${file} exists`).toBe(true);
      expect(included(file), `${file} is in the build context`).toBe(true);
      expect(
        copied.some((c) => file === c || file.startsWith(`${c}/`)),
        `${file} is copied`,
      ).toBe(true);
    }
    const stages = new Set(ins.filter((i) => i.keyword === 'FROM').map((i) => i.stage));
    for (const [name, s] of Object.entries(services)) {
      if (typeof s.build !== 'object') continue;
      expect(s.build.dockerfile ?? 'Dockerfile', name).toBe('Dockerfile');
      expect(s.build.context, name).toBe('.');
      expect(stages.has(s.build.target ?? ''), `${name}: target ${s.build.target}`).toBe(true);
    }
    // So is the script compose's preflight runs (on the runtime image).
    const script = commandOf('preflight')[1] as string;
    expect(existsSync(join(root, script)), `${script} exists`).toBe(true);
    expect(included(script), `${script} is in the build context`).toBe(true);
    expect(
      contextCopies(ins).some((c) => c.stage === 'runtime' && script.startsWith(posix.normalize(c.source))),
      `${script} is copied into the runtime stage`,
    ).toBe(true);
    // trans's image reports health; the one-shot app's does not.
    expect(ins.some((i) => i.stage === 'trans' && i.keyword === 'HEALTHCHECK' && i.args.startsWith('--'))).toBe(true);
  });
});

// ---------- trans's healthcheck script ----------

describe('infra/docker/trans-healthcheck.ts', () => {
  /** Runs the script on a config with the given ListenOn and no Etcd; resolves with its exit code and output. */
  async function check(listenOn: string): Promise<{ code: number; out: string }> {
    const dir = mkdtempSync(join(tmpdir(), 'trans-healthcheck-'));
    const file = join(dir, 'trans.yaml');
    writeFileSync(file, `Name: trans.rpc\nListenOn: ${listenOn}\n`);
    try {
      return await new Promise((resolve) => {
        execFile(
          process.execPath,
          [join(root, 'infra/docker/trans-healthcheck.ts'), '-f', file],
          { timeout: 15_000 },
          (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, out: `${stdout}${stderr}` }),
        );
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  // Two Node starts of the script: seconds each on a loaded machine.
  test('is healthy when the port accepts connections, unhealthy when it does not', { timeout: 30_000 }, async () => {
    const server: Server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    try {
      const up = await check(`127.0.0.1:${port}`);
      expect(up).toEqual({ code: 0, out: expect.stringContaining(`trans listens on 127.0.0.1:${port}`) });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    const down = await check(`127.0.0.1:${port}`);
    expect(down).toEqual({ code: 1, out: expect.stringContaining('unhealthy: connect ECONNREFUSED') });
  });
});

// ---------- the port preflight ----------

describe('infra/docker/port-preflight.ts', () => {
  /** Runs the script with these arguments; resolves with its exit code and output. */
  function preflight(...args: string[]): Promise<{ code: number; out: string }> {
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        [join(root, 'infra/docker/port-preflight.ts'), ...args],
        { timeout: 15_000 },
        (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, out: `${stdout}${stderr}` }),
      );
    });
  }
  async function listen(server: Server, host = '127.0.0.1'): Promise<number> {
    await new Promise<void>((resolve) => server.listen(0, host, resolve));
    return (server.address() as { port: number }).port;
  }
  const close = (server: Server): Promise<unknown> => new Promise((resolve) => server.close(resolve));

  test('exits 0 when every port is free', async () => {
    const [a, b, c] = await freePorts(3);
    const res = await preflight(`etcd=127.0.0.1:${a}`, `trans=127.0.0.1:${b}`, `dtm=:${c}`);
    expect(res).toEqual({ code: 0, out: expect.stringContaining('are free') });
  });

  test('exits 1 naming each taken port, the service that needs it and the fix', async () => {
    // What the local stack, `npm run trans` and another MySQL would hold: loopback listeners, one on all interfaces.
    const held = [createServer(), createServer(), createServer(), createServer()];
    const [etcd, mysql, dtm, trans] = await Promise.all(
      held.map((s, i) => listen(s, i === 1 ? '0.0.0.0' : '127.0.0.1')),
    );
    const [free] = await freePorts(1);
    try {
      const res = await preflight(
        `etcd=127.0.0.1:${etcd}`,
        `mysql=127.0.0.1:${mysql}`,
        `dtm=:${dtm}`,
        `dtm=:${free}`,
        `trans=127.0.0.1:${trans}`,
      );
      expect(res.code).toBe(1);
      const lines = res.out.trim().split('\n');
      expect(lines.slice(0, -1)).toEqual([
        `preflight: port ${etcd} (etcd, 127.0.0.1:${etcd}) is already in use: the local stack runs: ` +
          '`npm run stack:down` (or stop `npm start`)',
        // A wildcard listener blocks a loopback bind, and a loopback one blocks a wildcard bind (dtm's ":port").
        `preflight: port ${mysql} (mysql, 127.0.0.1:${mysql}) is already in use: another MySQL listens there: ` +
          'set DTM_MYSQL_PORT to a free port, e.g. `DTM_MYSQL_PORT=3308 docker compose up`',
        `preflight: port ${dtm} (dtm, *:${dtm}) is already in use: the local stack runs: ` +
          '`npm run stack:down` (or stop `npm start`)',
        `preflight: port ${trans} (trans, 127.0.0.1:${trans}) is already in use: stop \`npm run trans\` (or \`npm start\`)`,
      ]);
      expect(lines.at(-1)).toContain('docker compose down');
    } finally {
      await Promise.all(held.map(close));
    }
  });

  test('exits 1 when two services need the same port (DTM_MYSQL_PORT set to one of the stack)', async () => {
    const [port] = await freePorts(1);
    const res = await preflight(`etcd=127.0.0.1:${port}`, `mysql=127.0.0.1:${port}`);
    expect(res).toEqual({ code: 1, out: expect.stringContaining(`port ${port} is needed by both etcd and mysql`) });
  });

  test("exits 0 without checking when compose's own etcd already answers (the stack is up and holds the ports)", async () => {
    // A stand-in for etcd's JSON gateway: POST /v3/cluster/member/list.
    const etcd = createHttpServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(
        req.method === 'POST' && req.url === '/v3/cluster/member/list'
          ? JSON.stringify({ members: [{ ID: '1', name: 'dtm-gozero-ts-compose' }] })
          : '{}',
      );
    });
    await new Promise<void>((resolve) => etcd.listen(0, '127.0.0.1', resolve));
    const { port } = etcd.address() as { port: number };
    try {
      const url = `--own-etcd=http://127.0.0.1:${port}`;
      const own = await preflight(url, '--own-etcd-name=dtm-gozero-ts-compose', `etcd=127.0.0.1:${port}`);
      expect(own).toEqual({ code: 0, out: expect.stringContaining('this compose stack already runs') });
      // The local stack's etcd has another member name: the port is reported as taken.
      const local = await preflight(url, '--own-etcd-name=someone-else', `etcd=127.0.0.1:${port}`);
      expect(local).toEqual({
        code: 1,
        out: expect.stringContaining(`port ${port} (etcd, 127.0.0.1:${port}) is already in use`),
      });
    } finally {
      await new Promise((resolve) => etcd.close(resolve));
    }
  });

  test('--clear-flag / --set-flag: done once the ports are free, not when one is taken', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'preflight-flag-'));
    const flag = join(dir, 'observe');
    const [port] = await freePorts(1);
    try {
      expect((await preflight(`jaeger=127.0.0.1:${port}`, `--set-flag=${flag}`)).code).toBe(0);
      expect(existsSync(flag)).toBe(true);
      expect((await preflight(`etcd=127.0.0.1:${port}`, `--clear-flag=${flag}`)).code).toBe(0);
      expect(existsSync(flag)).toBe(false);
      const server = createServer();
      const taken = await listen(server);
      try {
        const res = await preflight(`jaeger=127.0.0.1:${taken}`, `--set-flag=${flag}`);
        expect(res.code).toBe(1);
        expect(res.out).toContain(
          `port ${taken} (jaeger, 127.0.0.1:${taken}) is already in use: stop \`npm start -- --observe\``,
        );
        expect(existsSync(flag)).toBe(false);
      } finally {
        await close(server);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('rejects a malformed port list', async () => {
    expect(await preflight()).toMatchObject({ code: 2, out: expect.stringContaining('no ports given') });
    expect(await preflight('etcd=2379')).toMatchObject({ code: 2, out: expect.stringContaining('SERVICE=HOST:PORT') });
  });
});

// ---------- one dtm config, two stacks ----------

describe('one dtm config for the compose stack and the local stack', () => {
  const CONFIG = 'infra/dtm/config.yml';
  const conf = parse(read(CONFIG)) as {
    MicroService: { Driver: string; Target: string; EndPoint: string };
    HttpPort: number;
    GrpcPort: number;
  } & Dict;
  const dtm = services.dtm as Service;
  const stack = read('scripts/stack.sh');

  test('both stacks start dtm with -c on infra/dtm/config.yml', () => {
    const args = commandOf('dtm');
    const file = args[args.indexOf('-c') + 1];
    expect(args).toContain('-c');
    expect(bindMounts(dtm)).toContainEqual({ source: `./${CONFIG}`, target: file });
    expect(stack).toContain(CONFIG);
    // dtm runs on that file (or, with etcd auth/TLS, on a copy with only its Target changed).
    expect(stack).toMatch(/-c "\$\(dtm_conf\)"/);
    expect(stack).toContain('echo "$DTM_CONF"');
  });

  test('the file has only dtm keys, spelt exactly, and no Store (which comes from the environment in compose)', () => {
    const known = new Set(leaves(DTM_KEYS).map((p) => p.join('.')));
    for (const path of leaves(conf)) expect(known.has(path.join('.')), `${CONFIG}: ${path.join('.')}`).toBe(true);
    // YAML keys override the environment, so a Store here would silently replace compose's STORE_* settings.
    expect(conf).not.toHaveProperty('Store');
    expect(conf.MicroService.Driver).toBe('dtm-driver-gozero');
  });

  test("compose's dtm environment sets only store keys, none the shared file would override", () => {
    const byEnv = new Map(leaves(DTM_KEYS).map((p) => [dtmEnvName(p), p.join('.')]));
    expect(dtmEnvName(['MicroService', 'EndPoint'])).toBe('MICRO_SERVICE_END_POINT');
    const inFile = new Set(leaves(conf).map((p) => p.join('.')));
    for (const name of Object.keys(envOf(dtm))) {
      const key = byEnv.get(name);
      expect(key, `${name} is one of dtm's settings`).toBeDefined();
      expect(key?.startsWith('Store.'), `${name} is a store setting`).toBe(true);
      expect(inFile.has(key as string), `${name} is not also in ${CONFIG}`).toBe(false);
    }
    expect(envOf(dtm).STORE_DRIVER).toBe('mysql');
  });

  test('registration, ports and etcd agree with the stacks, the apps and the healthchecks', () => {
    const { Target, EndPoint } = conf.MicroService;
    const target = /^etcd:\/\/([^/]+)\/(\w+)$/.exec(Target);
    expect(target, `Target ${Target}`).not.toBeNull();
    const [, etcdHost, key] = target as unknown as [string, string, string];
    // dtm publishes EndPoint verbatim: it must be its gRPC port.
    expect(EndPoint.split(':').at(-1)).toBe(String(conf.GrpcPort));
    // etcd is where both stacks run it, and where trans and the app look.
    const advertised = commandOf('etcd').find((a) => a.startsWith('--advertise-client-urls='));
    expect(hostPort(advertised?.split('=')[1] ?? '')).toBe(hostPort(etcdHost));
    expect(`127.0.0.1:${/STACK_ETCD_PORT:-(\d+)/.exec(stack)?.[1]}`).toBe(hostPort(etcdHost));
    for (const file of ['apps/trans/etc/trans.yaml', 'apps/app/etc/config.yaml']) {
      const { Etcd } = parse(read(file)) as { Etcd: { Hosts: string[] } };
      expect(Etcd.Hosts.map(hostPort), file).toEqual([hostPort(etcdHost)]);
    }
    // The app's default dtm address is where dtm registers itself.
    expect(read('apps/app/src/main.ts')).toContain(`'${Target}'`);
    // The local stack reads Target (the registration it waits for) and HttpPort (the port it probes) from the same
    // file; compose probes the same port.
    expect(key).toBe('dtmservice');
    expect(stack).toContain('DTM_TARGET="$(conf Target)"');
    expect(stack).toContain('DTM_HTTP_PORT="$(conf HttpPort)"');
    expect([dtm.healthcheck?.test ?? []].flat().join(' ')).toContain(`127.0.0.1:${conf.HttpPort}/api/ping`);
  });
});
