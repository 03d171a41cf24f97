// go-zero's ServiceConf, RpcServerConf and RpcClientConf keys beyond the basic ones (config.ts): loaded with
// go-zero's names and defaults. Every key is acted on, refused by name, or warned about by name when it is
// parsed but not acted on; a key unknown inside one of go-zero's mappings (a typo) is an error naming it.

import { splitHostPort } from '../internal/host-port.ts';
import type { LogConf, LogLevel } from '../logx/logx.ts';
import { ConfigError } from './errors.ts';
import { type Fields, Fields as FieldsClass, get } from './fields.ts';

export interface StatConf {
  /** ms; a call slower than this is logged at `slow` level (go-zero: 500ms). */
  SlowThreshold: number;
  /** Full method names whose request is not logged. */
  IgnoreContentMethods: string[];
}

/** go-zero's `zrpc.ServerMiddlewaresConf` (all on by default). */
export interface ServerMiddlewaresConf {
  Trace: boolean;
  Recover: boolean;
  Stat: boolean;
  StatConf: StatConf;
  Prometheus: boolean;
  Breaker: boolean;
}

/** go-zero's `zrpc.ClientMiddlewaresConf` (all on by default). */
export interface ClientMiddlewaresConf {
  Trace: boolean;
  Duration: boolean;
  Prometheus: boolean;
  Breaker: boolean;
  Timeout: boolean;
}

/** go-zero's `proc.ShutdownConf`, in ms. */
export interface ShutdownConf {
  WrapUpTime: number;
  WaitTime: number;
}

/** go-zero's `zrpc.MethodTimeoutConf` (v1.10): one method's handler deadline instead of the server's `Timeout`. */
export interface MethodTimeoutConf {
  /** `/pkg.Service/Method`, as gRPC names the call. */
  FullMethod: string;
  /** ms (a Go duration in the YAML, e.g. `500ms`). */
  Timeout: number;
}

/** The ServiceConf/RpcServerConf keys loaded here (all optional in the type: code building a conf may omit them). */
export interface ServerServiceKeys {
  Log?: LogConf;
  MetricsUrl?: string;
  Shutdown?: ShutdownConf;
  /** millicpu in [0, 1000); 0 turns the shedder off (go-zero's default 900). */
  CpuThreshold?: number;
  Middlewares?: ServerMiddlewaresConf;
  /** Check every unary call's `app`/`token` metadata against the Redis hash `Redis.Key` (go-zero's Auth). */
  Auth?: boolean;
  Redis?: RedisKeyConf;
  /** With Auth: a token lookup that fails (unknown app, Redis down) refuses the call (INTERNAL) instead of letting it through. */
  StrictControl?: boolean;
  /** Per-method handler deadlines (go-zero v1.10); only applied when `Timeout` > 0, as go-zero. */
  MethodTimeouts?: MethodTimeoutConf[];
}

/** go-zero's `redis.RedisKeyConf`, the store of `Auth`'s tokens: the hash `Key` maps each app to its token. */
export interface RedisKeyConf {
  /** `host:port`. */
  Host: string;
  /** `node` (go-zero's `cluster` is refused by the loader). */
  Type: 'node';
  User?: string;
  Pass?: string;
  Tls: boolean;
  /** false: `RpcServer.start()` pings Redis first (within PingTimeout) and fails when it does not answer. */
  NonBlock: boolean;
  /** ms (go-zero's 1s): the ping's bound, and each token lookup's. */
  PingTimeout: number;
  Key: string;
}

export interface ClientServiceKeys {
  /** go-zero's per-call credentials: metadata `app` and `token` on every call (both set, or neither). */
  App?: string;
  Token?: string;
  /** ms between keepalive pings (0: grpc's default). */
  KeepaliveTime?: number;
  /** `p2c_ewma` (go-zero's default) or `round_robin`. */
  BalancerName?: 'p2c_ewma' | 'round_robin';
  Middlewares?: ClientMiddlewaresConf;
}

export const DEFAULT_SERVER_MIDDLEWARES: ServerMiddlewaresConf = {
  Trace: true,
  Recover: true,
  Stat: true,
  StatConf: { SlowThreshold: 500, IgnoreContentMethods: [] },
  Prometheus: true,
  Breaker: true,
};

export const DEFAULT_CLIENT_MIDDLEWARES: ClientMiddlewaresConf = {
  Trace: true,
  Duration: true,
  Prometheus: true,
  Breaker: true,
  Timeout: true,
};

/** Where loader warnings go (stderr unless a program says otherwise). */
let warnSink: (message: string) => void = (m) => console.warn(m);

/** Sends the loader's warnings (keys parsed but not acted on) somewhere else, e.g. a test's array. */
export function setConfigWarningSink(sink: (message: string) => void): void {
  warnSink = sink;
}

export function configWarn(message: string): void {
  warnSink(message);
}

/** Keys of go-zero's ServiceConf this package does not act on: a YAML setting them is warned about, never dropped silently. */
export const SERVICE_KEYS_ELSEWHERE: Record<string, string> = {
  Profiling: 'continuous profiling is not done by this package',
};

const GO_DURATION = /^(?:(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h))+$/;
const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A Go `time.Duration` as go-zero's loader takes it (`1s`, `500ms`, `1m30s`, or an integer of nanoseconds), in ms. */
export function parseGoDuration(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 ? v / 1e6 : undefined;
  if (typeof v !== 'string') return undefined;
  if (v === '0') return 0;
  if (!GO_DURATION.test(v)) return undefined;
  let ms = 0;
  for (const m of v.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/g)) {
    ms += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
  }
  return ms;
}

function duration(f: Fields, key: string, def: number): number {
  const v = get(f.obj, key);
  if (v === undefined || v === null) return def;
  const ms = parseGoDuration(v);
  if (ms === undefined)
    f.fail(key, `must be a Go duration such as 500ms, 1s or 1m30s, got ${JSON.stringify(v)}`, 'fix its value');
  return ms;
}

/** Refuses keys a go-zero mapping does not have (case-insensitively, as go-zero matches them). */
function onlyKeys(f: Fields, what: string, allowed: readonly string[]): void {
  const lower = new Set(allowed.map((k) => k.toLowerCase()));
  for (const k of Object.keys(f.obj)) {
    if (!lower.has(k.toLowerCase())) {
      const near = allowed.find((a) => a.toLowerCase().startsWith(k.toLowerCase().slice(0, 3)));
      f.fail(
        k,
        `is not a key of go-zero's ${what}`,
        `remove it${near ? ` (did you mean ${near}?)` : ''}; its keys are ${allowed.join(', ')}`,
      );
    }
  }
}

function oneOf<T extends string>(f: Fields, key: string, options: readonly T[], def: T): T {
  const v = f.string(key) ?? def;
  if (!options.includes(v as T))
    f.fail(key, `"${v}" is not one of ${options.join('|')}`, `use ${def} (go-zero's default)`);
  return v as T;
}

function warnUnused(f: Fields, keys: readonly string[], why: string): void {
  for (const k of keys) {
    if (get(f.obj, k) !== undefined) {
      configWarn(`config ${f.file}: warning: ${f.path ? `${f.path}.` : ''}${k} is set but not acted on (${why})`);
    }
  }
}

const LOG_KEYS = [
  'ServiceName',
  'Mode',
  'Encoding',
  'TimeFormat',
  'Path',
  'Level',
  'MaxContentLength',
  'Compress',
  'Stat',
  'KeepDays',
  'StackCooldownMillis',
  'MaxBackups',
  'MaxSize',
  'Rotation',
  'FileTimeFormat',
  'FieldKeys',
] as const;
const FIELD_KEYS = [
  'CallerKey',
  'ContentKey',
  'DurationKey',
  'LevelKey',
  'SpanKey',
  'TimestampKey',
  'TraceKey',
  'TruncatedKey',
] as const;

function logConf(f: Fields): LogConf | undefined {
  const l = f.sub('Log');
  if (!l) return undefined;
  onlyKeys(l, 'logx.LogConf', LOG_KEYS);
  const conf: LogConf = {
    Mode: oneOf(l, 'Mode', ['console', 'file', 'volume'] as const, 'console'),
    Encoding: oneOf(l, 'Encoding', ['json', 'plain'] as const, 'json'),
    Level: oneOf<LogLevel>(l, 'Level', ['debug', 'info', 'error', 'severe'], 'info'),
    MaxContentLength: l.int('MaxContentLength', 0, 'characters'),
  };
  const name = l.string('ServiceName');
  if (name) conf.ServiceName = name;
  conf.Stat = l.bool('Stat', true);
  // go-zero validates these whatever the Mode: a bad value is refused even where it would not be used
  const files = {
    Path: l.string('Path') ?? 'logs',
    Rotation: oneOf(l, 'Rotation', ['daily', 'size'] as const, 'daily'),
    KeepDays: l.int('KeepDays', 0, 'days'),
    MaxBackups: l.int('MaxBackups', 0, 'files'),
    MaxSize: l.int('MaxSize', 0, 'MB'),
    Compress: l.bool('Compress', false),
  };
  if (conf.Mode === 'console') {
    warnUnused(
      l,
      ['Path', 'Compress', 'KeepDays', 'MaxBackups', 'MaxSize', 'Rotation', 'FileTimeFormat'],
      'log files are not written: Mode is console',
    );
  } else {
    Object.assign(conf, files);
    if (conf.Rotation === 'daily')
      warnUnused(l, ['MaxBackups', 'MaxSize'], 'they only apply with Rotation: size, as in go-zero');
    warnUnused(l, ['FileTimeFormat'], "backup names keep go-zero's default time format, RFC 3339");
  }
  warnUnused(l, ['TimeFormat'], "timestamps keep logx's default format");
  warnUnused(l, ['StackCooldownMillis'], 'no stack logs are written');
  const fk = l.sub('FieldKeys');
  if (fk) {
    onlyKeys(fk, 'logx field keys', FIELD_KEYS);
    const keys: Partial<Record<(typeof FIELD_KEYS)[number], string>> = {};
    for (const k of FIELD_KEYS) {
      const v = fk.string(k);
      if (v) keys[k] = v;
    }
    conf.FieldKeys = keys;
  }
  return conf;
}

const STAT_KEYS = ['SlowThreshold', 'IgnoreContentMethods'] as const;
const SERVER_MW_KEYS = ['Trace', 'Recover', 'Stat', 'StatConf', 'Prometheus', 'Breaker'] as const;
const CLIENT_MW_KEYS = ['Trace', 'Duration', 'Prometheus', 'Breaker', 'Timeout'] as const;

function serverMiddlewares(f: Fields): ServerMiddlewaresConf {
  const m = f.sub('Middlewares');
  if (!m) return structuredClone(DEFAULT_SERVER_MIDDLEWARES);
  onlyKeys(m, 'zrpc.ServerMiddlewaresConf', SERVER_MW_KEYS);
  const s = m.sub('StatConf');
  if (s) onlyKeys(s, 'zrpc.StatConf', STAT_KEYS);
  if (m.bool('Recover', true) === false) {
    configWarn(
      `config ${f.file}: warning: Middlewares.Recover: false is not acted on (grpc-js always answers a throwing handler with an error)`,
    );
  }
  return {
    Trace: m.bool('Trace', true),
    Recover: m.bool('Recover', true),
    Stat: m.bool('Stat', true),
    StatConf: {
      SlowThreshold: s ? duration(s, 'SlowThreshold', 500) : 500,
      IgnoreContentMethods: s?.stringList('IgnoreContentMethods') ?? [],
    },
    Prometheus: m.bool('Prometheus', true),
    Breaker: m.bool('Breaker', true),
  };
}

const REDIS_KEYS = [
  'Host',
  'Type',
  'User',
  'Pass',
  'Tls',
  'NonBlock',
  'DisableIdentity',
  'Protocol',
  'MaintNotifications',
  'PingTimeout',
  'Key',
] as const;

/** `Redis` as go-zero's RpcServerConf.Validate wants it when Auth is true: Host and Key set. */
function redisKeyConf(f: Fields): RedisKeyConf {
  const r = f.sub('Redis');
  if (!r)
    f.fail('Redis', 'is missing', 'Auth: true checks app/token against a Redis hash: add Redis.Host and Redis.Key');
  onlyKeys(r, 'redis.RedisKeyConf', REDIS_KEYS);
  const Host = r.string('Host', { required: true, example: '127.0.0.1:6379' }) as string;
  if (!splitHostPort(Host)?.host) r.fail('Host', `"${Host}" is not host:port`, 'write it like 127.0.0.1:6379');
  const Key = r.string('Key', { required: true, example: 'rpc:auth' }) as string;
  const type = oneOf(r, 'Type', ['node', 'cluster'] as const, 'node');
  if (type === 'cluster') {
    r.fail('Type', 'is cluster, which Auth does not implement here', 'use a single Redis node (Type: node)');
  }
  warnUnused(
    r,
    ['DisableIdentity', 'Protocol', 'MaintNotifications'],
    "go-redis connection details; ioredis's defaults apply",
  );
  const conf: RedisKeyConf = {
    Host,
    Type: 'node',
    Tls: r.bool('Tls', false),
    NonBlock: r.bool('NonBlock', true),
    PingTimeout: duration(r, 'PingTimeout', 1000),
    Key,
  };
  const user = r.string('User');
  const pass = r.string('Pass');
  if (user) conf.User = user;
  if (pass) conf.Pass = pass;
  return conf;
}

const FULL_METHOD = /^\/[^/\s]+\/[^/\s]+$/;

/** go-zero v1.10's `MethodTimeouts: [{FullMethod: /pkg.Svc/Method, Timeout: 500ms}]`; both keys required, as go-zero's. */
function methodTimeouts(f: Fields): MethodTimeoutConf[] {
  const v = get(f.obj, 'MethodTimeouts');
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    f.fail(
      'MethodTimeouts',
      `must be a list of {FullMethod, Timeout}, got ${JSON.stringify(v)}`,
      'write it as e.g. "MethodTimeouts: [{FullMethod: /trans.TransSvc/TransOut, Timeout: 500ms}]"',
    );
  }
  const seen = new Set<string>();
  return (v as unknown[]).map((item, i) => {
    const key = `MethodTimeouts[${i}]`;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      f.fail(key, `must be a mapping {FullMethod, Timeout}, got ${JSON.stringify(item)}`, 'fix its value');
    }
    const e = new FieldsClass(f.file, item as Record<string, unknown>, f.path ? `${f.path}.${key}` : key);
    onlyKeys(e, 'zrpc.MethodTimeoutConf', ['FullMethod', 'Timeout']);
    const FullMethod = e.string('FullMethod', { required: true, example: '/trans.TransSvc/TransOut' }) as string;
    if (!FULL_METHOD.test(FullMethod)) {
      e.fail(
        'FullMethod',
        `"${FullMethod}" is not a gRPC full method name`,
        'write it as /<package>.<Service>/<Method>, e.g. /trans.TransSvc/TransOut',
      );
    }
    if (seen.has(FullMethod)) e.fail('FullMethod', `"${FullMethod}" is listed twice`, 'keep one entry per method');
    seen.add(FullMethod);
    if (get(e.obj, 'Timeout') === undefined || get(e.obj, 'Timeout') === null) {
      e.fail('Timeout', 'is missing', 'add it, e.g. "Timeout: 500ms"');
    }
    const Timeout = duration(e, 'Timeout', 0);
    // go-zero would answer every call DEADLINE_EXCEEDED at once: surely not what a 0 means
    if (!(Timeout > 0))
      e.fail('Timeout', 'must be longer than 0', 'give a duration such as 500ms, or remove the entry');
    return { FullMethod, Timeout };
  });
}

/** The ServiceConf + RpcServerConf keys beyond config.ts's, from a server YAML. */
export function serverServiceKeys(f: Fields): ServerServiceKeys {
  const out: ServerServiceKeys = {};
  const log = logConf(f);
  if (log) out.Log = log;
  const metricsUrl = f.string('MetricsUrl');
  if (metricsUrl) {
    out.MetricsUrl = metricsUrl;
    configWarn(
      `config ${f.file}: warning: MetricsUrl is set but not acted on (stats are not pushed to a URL; use Prometheus)`,
    );
  }
  const sh = f.sub('Shutdown');
  if (sh) onlyKeys(sh, 'proc.ShutdownConf', ['WrapUpTime', 'WaitTime']);
  out.Shutdown = {
    WrapUpTime: sh ? duration(sh, 'WrapUpTime', 1000) : 1000,
    WaitTime: sh ? duration(sh, 'WaitTime', 5500) : 5500,
  };
  const cpu = get(f.obj, 'CpuThreshold');
  if (
    cpu !== undefined &&
    cpu !== null &&
    (typeof cpu !== 'number' || !Number.isInteger(cpu) || cpu < 0 || cpu >= 1000)
  ) {
    f.fail(
      'CpuThreshold',
      `must be an integer in [0, 1000) millicpu, got ${JSON.stringify(cpu)}`,
      "use e.g. 900 (90 % CPU, go-zero's default) or 0 to turn load shedding off",
    );
  }
  out.CpuThreshold = typeof cpu === 'number' ? cpu : 900;
  out.Middlewares = serverMiddlewares(f);
  if (f.bool('Auth', false)) {
    out.Auth = true;
    out.Redis = redisKeyConf(f);
    out.StrictControl = f.bool('StrictControl', false);
  } else warnUnused(f, ['Redis', 'StrictControl'], 'they only matter with Auth: true, as in go-zero');
  const mt = methodTimeouts(f);
  if (mt.length > 0) {
    out.MethodTimeouts = mt;
    // go-zero installs its timeout interceptor only when Timeout > 0, and MethodTimeouts live in it
    if (get(f.obj, 'Timeout') === 0) {
      configWarn(
        `config ${f.file}: warning: MethodTimeouts is set but not acted on (Timeout: 0 turns the timeout interceptor off, as in go-zero); set Timeout > 0 for MethodTimeouts to apply`,
      );
    }
  }
  for (const [k, why] of Object.entries(SERVICE_KEYS_ELSEWHERE)) warnUnused(f, [k], why);
  return out;
}

/** The RpcClientConf keys beyond config.ts's (go-zero v1.10's among them), from a client YAML. */
export function clientServiceKeys(f: Fields): ClientServiceKeys {
  const out: ClientServiceKeys = {};
  const ka = duration(f, 'KeepaliveTime', 0);
  if (ka > 0) out.KeepaliveTime = ka;
  out.BalancerName = oneOf(f, 'BalancerName', ['p2c_ewma', 'round_robin'] as const, 'p2c_ewma');
  const m = f.sub('Middlewares');
  if (m) onlyKeys(m, 'zrpc.ClientMiddlewaresConf', CLIENT_MW_KEYS);
  out.Middlewares = {
    Trace: m?.bool('Trace', true) ?? true,
    Duration: m?.bool('Duration', true) ?? true,
    Prometheus: m?.bool('Prometheus', true) ?? true,
    Breaker: m?.bool('Breaker', true) ?? true,
    Timeout: m?.bool('Timeout', true) ?? true,
  };
  const app = f.string('App');
  const token = f.string('Token');
  if (app && token) {
    out.App = app;
    out.Token = token;
  } else if (app || token) {
    // go-zero's HasCredential: both or nothing is sent
    configWarn(
      `config ${f.file}: warning: ${app ? 'App' : 'Token'} is set without ${app ? 'Token' : 'App'}, so no app/token is sent (go-zero sends both or none); set both`,
    );
  }
  return out;
}

/**
 * go-zero's `conf.UseEnv()`: `${VAR}` and `$VAR` in the file replaced by the environment (Go's os.ExpandEnv);
 * a variable that is not set becomes empty, as in Go, and is warned about by name.
 */
export function expandEnv(text: string, file: string, env: NodeJS.ProcessEnv = process.env): string {
  return text.replace(/\$\{([^}]*)\}|\$([A-Za-z0-9_]+)/g, (_, braced: string | undefined, bare: string | undefined) => {
    const name = (braced ?? bare) as string;
    if (braced !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new ConfigError(
        `config ${file}: \${${name}} is not a variable name; write \${NAME} with letters, digits and _`,
      );
    }
    const v = env[name];
    if (v === undefined)
      configWarn(`config ${file}: warning: environment variable ${name} is not set; \${${name}} is empty`);
    return v ?? '';
  });
}

const SERVER_KEYS = [
  'Name',
  'Log',
  'Mode',
  'MetricsUrl',
  'Prometheus',
  'Telemetry',
  'DevServer',
  'Shutdown',
  'Profiling',
  'ListenOn',
  'Etcd',
  'Auth',
  'Redis',
  'StrictControl',
  'Timeout',
  'CpuThreshold',
  'Health',
  'Middlewares',
  'MethodTimeouts',
];
const CLIENT_KEYS = [
  'Etcd',
  'Endpoints',
  'Target',
  'App',
  'Token',
  'NonBlock',
  'Timeout',
  'KeepaliveTime',
  'Middlewares',
  'BalancerName',
];

/**
 * For a file that is a whole RpcServerConf / RpcClientConf (loadServerConf, loadClientConf): a top-level key go-zero
 * does not have is named in a warning (go-zero ignores it silently; often a typo). Not an error: a service's
 * own keys live beside go-zero's, and readYaml + serverConfFrom is the way to load those.
 */
export function warnUnknownTopLevel(f: Fields, kind: 'server' | 'client'): void {
  const known = new Set((kind === 'server' ? SERVER_KEYS : CLIENT_KEYS).map((k) => k.toLowerCase()));
  const struct = kind === 'server' ? 'zrpc.RpcServerConf' : 'zrpc.RpcClientConf';
  for (const k of Object.keys(f.obj)) {
    if (!known.has(k.toLowerCase())) {
      configWarn(
        `config ${f.file}: warning: ${k} is not a key of go-zero's ${struct}, so it is ignored; fix it if it is a typo (a key of your own service: load with readYaml and ${kind}ConfFrom)`,
      );
    }
  }
}
