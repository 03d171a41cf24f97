import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import type * as K8s from '@kubernetes/client-node';

/** k8s:// cannot work here: no client library, no configuration, or the API server refuses; the message says why. */
export class KubeError extends Error {
  override name = 'KubeError';
  /** The HTTP status of the API server's refusal (401, 403, …), when it refused. */
  readonly status: number | undefined;

  constructor(message: string, status?: number, options?: ErrorOptions) {
    super(message, options);
    this.status = status;
  }
}

export type ClientNode = typeof K8s;

/** Where client-go and client-node read a pod's service-account credentials (fixed paths). */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

let lib: Promise<ClientNode> | undefined;

/** @kubernetes/client-node, an optional peer dependency: loaded on the first k8s:// target only. */
export function clientNode(): Promise<ClientNode> {
  lib ??= import('@kubernetes/client-node').catch((err: unknown) => {
    lib = undefined;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' && String((err as Error).message).includes('@kubernetes/client-node')) {
      throw new KubeError(
        'k8s:// targets need the optional peer dependency @kubernetes/client-node: npm install @kubernetes/client-node',
        undefined,
        { cause: err },
      );
    }
    throw err;
  });
  return lib;
}

export interface LoadedKubeConfig {
  kc: K8s.KubeConfig;
  /** Where it came from, for messages: "in-cluster config" or "kubeconfig <file>". */
  source: string;
  server: string;
}

/**
 * The configuration go-zero's resolver uses inside a pod (the service account: KUBERNETES_SERVICE_HOST/PORT and
 * the token and CA under /var/run/secrets/kubernetes.io/serviceaccount), else the user's kubeconfig ($KUBECONFIG,
 * else ~/.kube/config) so that a service run outside the cluster (a laptop, a test) can follow one too. Never
 * client-node's fallback to http://localhost:8080: without either, the error says what is missing.
 */
export function loadKubeConfig(k8s: ClientNode, env: NodeJS.ProcessEnv = process.env): LoadedKubeConfig {
  const kc = new k8s.KubeConfig();
  let source: string;
  const host = env.KUBERNETES_SERVICE_HOST;
  const tokenFile = join(SERVICE_ACCOUNT_DIR, 'token');
  const inCluster = Boolean(host && env.KUBERNETES_SERVICE_PORT) && existsSync(tokenFile);
  const home = env.HOME || homedir();
  const files = (env.KUBECONFIG ?? '').split(delimiter).filter((f) => f !== '');
  if (inCluster) {
    kc.loadFromCluster();
    source = 'in-cluster config (service account)';
  } else if (files.length > 0) {
    const missing = files.filter((f) => !existsSync(f));
    if (missing.length === files.length)
      throw new KubeError(
        `KUBECONFIG names ${missing.join(', ')}, which does not exist; point it at a kubeconfig file`,
      );
    const present = files.filter((f) => existsSync(f));
    try {
      kc.loadFromFile(present[0] as string);
      for (const f of present.slice(1)) {
        const more = new k8s.KubeConfig();
        more.loadFromFile(f);
        kc.mergeConfig(more);
      }
    } catch (err) {
      throw new KubeError(
        `kubeconfig ${present.join(', ')} (KUBECONFIG) cannot be read: ${(err as Error).message}`,
        undefined,
        {
          cause: err,
        },
      );
    }
    source = `kubeconfig ${present.join(', ')}`;
  } else if (existsSync(join(home, '.kube', 'config'))) {
    const f = join(home, '.kube', 'config');
    try {
      kc.loadFromFile(f);
    } catch (err) {
      throw new KubeError(`kubeconfig ${f} cannot be read: ${(err as Error).message}`, undefined, { cause: err });
    }
    source = `kubeconfig ${f}`;
  } else {
    const why = !host
      ? 'KUBERNETES_SERVICE_HOST is not set'
      : !env.KUBERNETES_SERVICE_PORT
        ? 'KUBERNETES_SERVICE_PORT is not set'
        : `there is no service-account token at ${tokenFile}`;
    throw new KubeError(
      `no Kubernetes configuration for k8s:// targets: not in a pod (${why}) and no kubeconfig (KUBECONFIG is not set, ` +
        `${join(home, '.kube', 'config')} does not exist); run the service in the cluster with a service account, or set KUBECONFIG`,
    );
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster?.server)
    throw new KubeError(`${source} names no current cluster (no current-context, or its cluster has no server)`);
  return { kc, source, server: cluster.server };
}

/**
 * One clear sentence for a failed list or watch: the API server's refusal (401, 403 with the permission to grant,
 * 404) or why it cannot be reached. The server's own message names the user and verb, never the token.
 */
export function describeKubeError(err: unknown, what: string, server: string): KubeError {
  if (err instanceof KubeError) return err;
  const e = err as { code?: unknown; statusCode?: unknown; body?: unknown; message?: string; cause?: unknown };
  const status = typeof e.code === 'number' ? e.code : typeof e.statusCode === 'number' ? e.statusCode : undefined;
  let serverMessage = '';
  if (typeof e.body === 'string') {
    try {
      serverMessage = String((JSON.parse(e.body) as { message?: string }).message ?? '');
    } catch {
      serverMessage = '';
    }
  } else if (e.body && typeof e.body === 'object') {
    serverMessage = String((e.body as { message?: string }).message ?? '');
  }
  const said = serverMessage ? ` (the API server says: ${serverMessage})` : '';
  if (status === 403) {
    return new KubeError(
      `the API server at ${server} forbids ${what}${said}: grant get, list and watch on endpointslices ` +
        '(apiGroups: ["discovery.k8s.io"]) to this service account with a Role and RoleBinding, as deploy/k8s/10-rbac.yaml does',
      403,
      { cause: err },
    );
  }
  if (status === 401) {
    return new KubeError(
      `the API server at ${server} rejected the credentials for ${what} (401 Unauthorized): the service-account token or the kubeconfig user is not valid (expired, or for another cluster)`,
      401,
      { cause: err },
    );
  }
  if (status !== undefined) {
    return new KubeError(`the API server at ${server} answered ${status} to ${what}${said}`, status, { cause: err });
  }
  let cause: unknown = e.cause ?? err;
  while ((cause as { cause?: unknown })?.cause) cause = (cause as { cause?: unknown }).cause;
  const detail = (cause as NodeJS.ErrnoException)?.code ?? (cause as Error)?.message ?? String(err);
  return new KubeError(`cannot reach the Kubernetes API server at ${server} for ${what}: ${detail}`, undefined, {
    cause: err,
  });
}
