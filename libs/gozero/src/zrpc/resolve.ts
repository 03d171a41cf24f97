import { describeEtcdError, ETCD_WAIT_MS, etcdClient } from '../discov/clients.ts';
import { withTimeout } from '../internal/timeout.ts';
import { resolveKubeTarget } from '../kube/resolve.ts';
import { parseTarget } from './target.ts';

/**
 * Why a target could not be resolved: etcd (or, for k8s://, the Kubernetes API server or its configuration)
 * failed, or nothing is registered under the key (no ready pod of the service).
 */
export class ResolveError extends Error {
  override name = 'ResolveError';
  readonly reason: 'etcd-unreachable' | 'kube-unreachable' | 'not-registered';

  constructor(message: string, reason: ResolveError['reason'], options?: ErrorOptions) {
    super(message, options);
    this.reason = reason;
  }
}

/**
 * Looks a target up once and returns its addresses, or throws an error that says what is missing:
 * etcd unreachable, or nothing registered under the key. Use it to fail fast before dialling
 * (go-zero clients block at start-up until the target resolves; this gives the same check a deadline).
 */
export async function resolveTarget(target: string, timeoutMs = ETCD_WAIT_MS): Promise<string[]> {
  const t = parseTarget(target);
  if (t.scheme === 'direct') return t.endpoints;
  if (t.scheme === 'plain') return [t.endpoint];
  if (t.scheme === 'k8s') {
    const r = await resolveKubeTarget(t, timeoutMs);
    if ('error' in r) throw new ResolveError(`${target}: ${r.error.message}`, 'kube-unreachable', { cause: r.error });
    if (r.addresses.length === 0) throw new ResolveError(`${target}: ${r.why}`, 'not-registered');
    return r.addresses;
  }
  let values: string[];
  try {
    const res = await withTimeout(etcdClient(t.hosts).getAll().prefix(`${t.key}/`).strings(), timeoutMs, 'etcd get');
    values = [...new Set(Object.values(res))];
  } catch (err) {
    throw new ResolveError(`${target}: ${describeEtcdError(t.hosts, err)}`, 'etcd-unreachable', { cause: err });
  }
  if (values.length === 0) {
    throw new ResolveError(`${target}: nothing is registered in etcd under "${t.key}/"`, 'not-registered');
  }
  return values;
}
