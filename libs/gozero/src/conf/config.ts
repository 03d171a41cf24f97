import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { splitHostPort } from '../internal/host-port.ts';
import { ConfigError } from './errors.ts';
import { Fields, get, type Raw } from './fields.ts';
import { type ObservabilityConf, observabilityConf } from './observability.ts';
import {
  type ClientServiceKeys,
  clientServiceKeys,
  expandEnv,
  type ServerServiceKeys,
  serverServiceKeys,
  warnUnknownTopLevel,
} from './service-conf.ts';

/** go-zero's `discov.EtcdConf` (v1.4): where a service registers or is looked up. */
export interface EtcdConf {
  Hosts: string[];
  Key: string;
  User?: string;
  Pass?: string;
  CertFile?: string;
  CertKeyFile?: string;
  CACertFile?: string;
  InsecureSkipVerify?: boolean;
  /** go-zero's `Etcd.ID`: register under `<Key>/<ID>` instead of `<Key>/<lease id>` (servers only; 0 = unset). */
  ID?: number;
}

/** go-zero's `zrpc.RpcServerConf`, the fields a TypeScript server uses (more in service-conf.ts). */
export interface RpcServerConf extends ServerServiceKeys {
  Name: string;
  ListenOn: string;
  Mode: string;
  Etcd?: EtcdConf;
  /** Per-call handler deadline in ms (go-zero default 2000; 0 = none). */
  Timeout: number;
  /** Serve `grpc.health.v1.Health` (go-zero's default: true; unset = true). */
  Health?: boolean;
  /** `Telemetry`, `Prometheus`, `DevServer` (conf/observability.ts); `Middlewares` is in service-conf.ts. */
  Telemetry?: ObservabilityConf['Telemetry'];
  Prometheus?: ObservabilityConf['Prometheus'];
  DevServer?: ObservabilityConf['DevServer'];
}

/** go-zero's `zrpc.RpcClientConf`, the fields a TypeScript client uses (more in service-conf.ts). */
export interface RpcClientConf extends ClientServiceKeys {
  Etcd?: EtcdConf;
  Endpoints?: string[];
  Target?: string;
  NonBlock: boolean;
  /** Per-call deadline in ms (go-zero default 2000). */
  Timeout: number;
}

export interface ReadOptions {
  /** go-zero's `conf.UseEnv()`: replace `${VAR}` / `$VAR` by the environment before parsing. */
  useEnv?: boolean;
}

/** Reads and parses a YAML (or JSON) file; errors name the file and what to do. */
export function readYaml(file: string, options: ReadOptions = {}): Raw {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'file not found' : code === 'EACCES' ? 'permission denied' : String(err);
    throw new ConfigError(`config ${file}: cannot read it (${why}); pass an existing file with -f <file>`, {
      cause: err,
    });
  }
  if (options.useEnv) text = expandEnv(text, file);
  let doc: unknown;
  try {
    const parsed = parseDocument(text);
    // A warning (an unknown tag such as `!foo`) is an error here: silence would load a value the user did not mean.
    const problem = parsed.errors[0] ?? parsed.warnings[0];
    if (problem) throw problem;
    doc = parsed.toJS();
  } catch (err) {
    throw new ConfigError(`config ${file}: not valid YAML (${(err as Error).message.split('\n')[0]})`, { cause: err });
  }
  if (doc === null || doc === undefined) doc = {};
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ConfigError(`config ${file}: expected a mapping of keys (e.g. "ListenOn: 127.0.0.1:50081") at the top`);
  }
  return doc as Raw;
}

/**
 * go-zero matches YAML keys case-insensitively; so do we. Exported as `confValue` for a service's own keys (e.g.
 * `Mysql`), so that `MySQL:` or `mysql:` is read as go-zero would, not silently missed.
 */
export function confValue(obj: Record<string, unknown>, key: string): unknown {
  return get(obj, key);
}

const MODES = ['dev', 'test', 'rt', 'pre', 'pro'];

function etcdConf(f: Fields, required: boolean): EtcdConf | undefined {
  const e = f.sub('Etcd');
  if (!e) {
    if (required)
      f.fail('Etcd', 'is missing', 'add Etcd.Hosts and Etcd.Key (e.g. Hosts: [127.0.0.1:2379], Key: trans)');
    return undefined;
  }
  const Hosts = e.stringList('Hosts') ?? [];
  if (Hosts.length === 0)
    e.fail('Hosts', 'is missing or empty', 'list the etcd endpoints, e.g. "Hosts: [127.0.0.1:2379]"');
  for (const h of Hosts) {
    if (!splitHostPort(h)?.host) {
      e.fail('Hosts', `has "${h}", which is not host:port`, 'write each endpoint as host:port, e.g. 127.0.0.1:2379');
    }
  }
  const Key = e.string('Key', { required: true, example: 'trans' }) as string;
  const conf: EtcdConf = { Hosts, Key };
  for (const k of ['User', 'Pass', 'CertFile', 'CertKeyFile', 'CACertFile'] as const) {
    const v = e.string(k);
    if (v !== undefined) conf[k] = v;
  }
  conf.InsecureSkipVerify = e.bool('InsecureSkipVerify', false);
  const id = e.int('ID', 0, 'an integer id');
  if (id > 0) conf.ID = id;
  if (Boolean(conf.User) !== Boolean(conf.Pass)) {
    e.fail(conf.User ? 'Pass' : 'User', 'is missing', 'etcd authentication needs both Etcd.User and Etcd.Pass');
  }
  const tls = (['CertFile', 'CertKeyFile', 'CACertFile'] as const).filter((k) => conf[k]);
  if (tls.length > 0 && tls.length < 3) {
    const missing = (['CertFile', 'CertKeyFile', 'CACertFile'] as const).filter((k) => !conf[k]);
    e.fail(missing[0] as string, 'is missing', 'etcd TLS needs CertFile, CertKeyFile and CACertFile (PEM files)');
  }
  return conf;
}

/** Validates a ListenOn value: host:port with a port in 0..65535 (host may be empty or 0.0.0.0). */
export function parseListenOn(listenOn: string): { host: string; port: number } {
  const hp = splitHostPort(listenOn);
  if (!hp) {
    throw new ConfigError(`ListenOn "${listenOn}" is not host:port; write it like 127.0.0.1:50081 or 0.0.0.0:50081`);
  }
  return hp;
}

/** Loads a go-zero `RpcServerConf` YAML (e.g. the Go example's etc/trans.yaml, unchanged). */
export function loadServerConf(file: string, options: ReadOptions = {}): RpcServerConf {
  const doc = readYaml(file, options);
  const conf = serverConfFrom(doc, file);
  warnUnknownTopLevel(new Fields(file, doc, ''), 'server');
  return conf;
}

/** As loadServerConf, from a document already read with readYaml (a service with keys of its own reads once). */
export function serverConfFrom(doc: Record<string, unknown>, file: string): RpcServerConf {
  const f = new Fields(file, doc, '');
  const Name = f.string('Name', { required: true, example: 'trans.rpc' }) as string;
  const ListenOn = f.string('ListenOn', { required: true, example: '127.0.0.1:50081' }) as string;
  try {
    parseListenOn(ListenOn);
  } catch {
    f.fail('ListenOn', `"${ListenOn}" is not host:port`, 'write it like 127.0.0.1:50081');
  }
  const Mode = f.string('Mode') ?? 'pro';
  if (!MODES.includes(Mode)) f.fail('Mode', `"${Mode}" is not one of ${MODES.join('|')}`, 'use pro (the default)');
  const conf: RpcServerConf = { Name, ListenOn, Mode, Timeout: f.int('Timeout', 2000), Health: f.bool('Health', true) };
  const Etcd = etcdConf(f, false);
  if (Etcd) conf.Etcd = Etcd;
  const { Middlewares: _observed, ...observe } = observabilityConf(f, Name);
  Object.assign(conf, observe);
  // Middlewares: all of go-zero's server toggles (Trace and Prometheus among them), service-conf.ts
  Object.assign(conf, serverServiceKeys(f));
  return conf;
}

/**
 * Loads a go-zero `RpcClientConf` YAML (e.g. the Go example's etc/config.yaml, unchanged).
 * One of Endpoints, Target or Etcd must be present.
 */
export function loadClientConf(file: string, options: ReadOptions = {}): RpcClientConf {
  const doc = readYaml(file, options);
  const conf = clientConfFrom(doc, file);
  warnUnknownTopLevel(new Fields(file, doc, ''), 'client');
  return conf;
}

/** As loadClientConf, from a document already read with readYaml. */
export function clientConfFrom(doc: Record<string, unknown>, file: string): RpcClientConf {
  const f = new Fields(file, doc, '');
  const conf: RpcClientConf = { NonBlock: f.bool('NonBlock', false), Timeout: f.int('Timeout', 2000) };
  const Endpoints = f.stringList('Endpoints');
  const Target = f.string('Target');
  if (Endpoints && Endpoints.length > 0) conf.Endpoints = Endpoints;
  if (Target) conf.Target = Target;
  const Etcd = etcdConf(f, !conf.Endpoints && !conf.Target);
  if (Etcd) conf.Etcd = Etcd;
  // Middlewares: all of go-zero's client toggles (Trace and Prometheus among them), service-conf.ts
  Object.assign(conf, clientServiceKeys(f));
  return conf;
}
