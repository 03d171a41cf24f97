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
 * Target verbatim, else `etcd://<hosts joined by ,>/<Key>`. This is the form dtm's go-zero driver splits
 * correctly; newer go-zero's `etcd:///hosts?key=` form is deliberately not produced.
 */
export function buildTarget(conf: RpcClientConf): string {
  if (conf.Endpoints && conf.Endpoints.length > 0) return `direct:///${conf.Endpoints.join(',')}`;
  if (conf.Target) return conf.Target;
  const etcd = conf.Etcd;
  if (!etcd || etcd.Hosts.length === 0)
    throw new TargetError('empty etcd hosts: set Etcd.Hosts (or Endpoints, or Target)');
  if (!etcd.Key) throw new TargetError('empty etcd key: set Etcd.Key');
  if (etcd.Key.includes('/')) {
    throw new TargetError(
      `etcd key "${etcd.Key}" contains "/": dtm's go-zero driver would mis-split branch URLs; use one path segment`,
    );
  }
  return `etcd://${etcd.Hosts.join(',')}/${etcd.Key}`;
}

/** Parses `etcd://h1,h2/key`, `discov://h/key`, `direct:///a:1,b:2`, `k8s://ns/svc:port` or a plain `host:port`. */
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
    if (authority === '') {
      throw new TargetError(
        `target "${target}" has no etcd hosts; write etcd://127.0.0.1:2379/<key> (the go-zero v1.4 form dtm's driver parses, not etcd:///host?key=)`,
      );
    }
    const hosts = authority.split(',');
    for (const h of hosts) checkHostPort('etcd host', h, target);
    const key = path.replace(/^\/+|\/+$/g, '');
    if (key === '' || key.includes('?'))
      throw new TargetError(`target "${target}" has no etcd key; write etcd://host:port/<key>`);
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
