import type { RpcClientConf } from '../conf/config.ts';
import { splitHostPort } from '../internal/host-port.ts';
import { type KubeTarget, parseKubeTarget } from '../kube/target.ts';

/** A malformed target or branch URL; the message says what form is expected. */
export class TargetError extends Error {
  override name = 'TargetError';
}

/** A parsed gRPC target in one of the forms go-zero v1.4 and dtm's go-zero driver understand. */
export type ParsedTarget =
  | { scheme: 'etcd' | 'discov'; hosts: string[]; key: string }
  | { scheme: 'direct'; endpoints: string[] }
  | ({ scheme: 'k8s' } & KubeTarget)
  | { scheme: 'plain'; endpoint: string };

function checkHostPort(what: string, hp: string, target: string): void {
  if (!splitHostPort(hp)?.host) {
    throw new TargetError(`target "${target}": ${what} "${hp}" is not host:port (e.g. 127.0.0.1:2379)`);
  }
}

/**
 * Builds the target go-zero v1.4's `RpcClientConf.BuildTarget()` builds: `direct:///e1,e2` for Endpoints,
 * Target, else `etcd://<hosts joined by ,>/<Key>`. This is the form dtm's go-zero driver splits correctly, so a
 * Target written in go-zero v1.10's `etcd:///h1,h2?key=k` form comes back in the v1.4 form too (a branch URL
 * built from it would otherwise be mis-split); other Targets are returned verbatim.
 */
export function buildTarget(conf: RpcClientConf): string {
  if (conf.Endpoints && conf.Endpoints.length > 0) return `direct:///${conf.Endpoints.join(',')}`;
  if (conf.Target) {
    const t = /^(etcd|discov):\/\/\//.test(conf.Target) ? parseTarget(conf.Target) : undefined;
    return t && (t.scheme === 'etcd' || t.scheme === 'discov') ? v14Target(t.scheme, t.hosts, t.key) : conf.Target;
  }
  const etcd = conf.Etcd;
  if (!etcd || etcd.Hosts.length === 0)
    throw new TargetError('empty etcd hosts: set Etcd.Hosts (or Endpoints, or Target)');
  if (!etcd.Key) throw new TargetError('empty etcd key: set Etcd.Key');
  return v14Target('etcd', etcd.Hosts, etcd.Key);
}

function v14Target(scheme: string, hosts: string[], key: string): string {
  if (key.includes('/')) {
    throw new TargetError(
      `etcd key "${key}" contains "/": dtm's go-zero driver would mis-split branch URLs; use one path segment`,
    );
  }
  return `${scheme}://${hosts.join(',')}/${key}`;
}

/**
 * go-zero v1.10.2+'s `BuildTarget()` form, `etcd:///h1,h2?key=<url-escaped key>` (hosts in the path, key in the
 * query), as its resolver reads it; for a Go colleague's config, or a Go service's logs.
 */
export function buildTargetV110(hosts: string[], key: string, scheme: 'etcd' | 'discov' = 'etcd'): string {
  return `${scheme}:///${hosts.join(',')}?key=${queryEscape(key)}`;
}

/** Go's `url.QueryEscape`: only letters, digits and `-_.~` stay, a space becomes `+`. */
function queryEscape(s: string): string {
  return encodeURIComponent(s)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}

/**
 * Parses `etcd://h1,h2/key` (go-zero v1.4), `etcd:///h1,h2?key=k` (v1.10.2+, key URL-escaped), the same with
 * `discov://`, `direct:///a:1,b:2`, `k8s://ns/svc:port` or a plain `host:port`.
 */
export function parseTarget(target: string): ParsedTarget {
  const m = /^([a-z][a-z0-9+.-]*):\/\/([^/]*)\/(.*)$/.exec(target);
  if (!m) {
    if (target.includes('://') || /^[a-z][a-z0-9+.-]*:\//.test(target)) {
      throw new TargetError(
        `target "${target}" is malformed; expected etcd://host:port/key, direct:///host:port, k8s://namespace/service:port or host:port`,
      );
    }
    checkHostPort('address', target, target);
    return { scheme: 'plain', endpoint: target };
  }
  const [, scheme, authority, path] = m as unknown as [string, string, string, string];
  if (scheme === 'etcd' || scheme === 'discov') {
    // v1.10's form: an empty authority, the hosts in the path and the key in the query (as go-zero's resolver).
    const v110 = authority === '';
    const q = path.indexOf('?');
    const hostList = v110 ? (q < 0 ? path : path.slice(0, q)).replace(/^\/+|\/+$/g, '') : authority;
    if (hostList === '') {
      throw new TargetError(
        `target "${target}" has no etcd hosts; write etcd://127.0.0.1:2379/<key> (go-zero v1.4's form) or etcd:///127.0.0.1:2379?key=<key> (v1.10's)`,
      );
    }
    const hosts = hostList.split(',').filter((h) => h !== '');
    for (const h of hosts) checkHostPort('etcd host', h, target);
    let key: string;
    if (v110) {
      key = (q < 0 ? null : new URLSearchParams(path.slice(q + 1)).get('key')) ?? '';
      if (key === '') throw new TargetError(`target "${target}" has no etcd key; write etcd:///host:port?key=<key>`);
    } else {
      key = path.replace(/^\/+|\/+$/g, '');
      if (key === '' || key.includes('?'))
        throw new TargetError(`target "${target}" has no etcd key; write etcd://host:port/<key>`);
    }
    return { scheme, hosts, key };
  }
  if (scheme === 'direct') {
    const endpoints = path.split(',').filter((e) => e !== '');
    if (endpoints.length === 0)
      throw new TargetError(`target "${target}" lists no endpoints; write direct:///host:port[,host:port]`);
    for (const e of endpoints) checkHostPort('endpoint', e, target);
    return { scheme, endpoints };
  }
  if (scheme === 'k8s') {
    const t = parseKubeTarget(authority, path);
    if (typeof t === 'string') throw new TargetError(t);
    return { scheme, ...t };
  }
  throw new TargetError(
    `target "${target}": unsupported scheme "${scheme}"; use etcd://, discov://, direct:///, k8s:// or host:port`,
  );
}

/**
 * Splits a dtm branch URL into (dial target, method path) exactly as dtm's go-zero driver does:
 * `etcd://h/key/pkg.Svc/Rpc` → (`etcd://h/key`, `/pkg.Svc/Rpc`); `host:port/pkg.Svc/Rpc` → (`host:port`, `/pkg.Svc/Rpc`).
 */
export function parseServerMethod(url: string): { server: string; method: string } {
  let server: string;
  let method: string;
  if (!url.includes('//')) {
    const i = url.indexOf('/');
    if (i < 0) throw new TargetError(`branch URL "${url}" has no method path; expected host:port/pkg.Service/Method`);
    server = url.slice(0, i);
    method = url.slice(i);
  } else {
    if (/^(etcd|discov):\/\/\//.test(url)) {
      throw new TargetError(
        `branch URL "${url}" uses go-zero v1.10's etcd:///host?key= form, which dtm's go-zero driver cannot split; write etcd://host:port/key/pkg.Service/Method (buildTarget gives that form)`,
      );
    }
    const m = /^([a-z][a-z0-9+.-]*:\/\/[^/]*)\/([^/]*)(\/.*)?$/.exec(url);
    if (!m) throw new TargetError(`branch URL "${url}" is malformed; expected etcd://host:port/key/pkg.Service/Method`);
    server = `${m[1]}/${m[2]}`;
    method = m[3] ?? '';
  }
  if (!/^\/[A-Za-z_][\w.]*\/[A-Za-z_]\w*$/.test(method)) {
    throw new TargetError(
      `branch URL "${url}": method "${method}" is not /<proto package>.<Service>/<Rpc> (e.g. /trans.TransSvc/TransOut)`,
    );
  }
  parseTarget(server);
  return { server, method };
}
