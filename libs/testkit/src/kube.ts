// A real kube-apiserver for tests of Kubernetes-discovered services (k8s:// targets): the binary this repository's
// setup builds from k8s.io/kubernetes (scripts/setup-kube.sh), on a free loopback port, storing in an etcd (a given
// one under a prefix of its own, else one started here), with certificates made by openssl and RBAC on. There is
// no controller manager: a test publishes a service's pods itself (`publishService`), as the endpoint and
// endpoint-slice controllers would.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { homedir, networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { TestkitError } from './errors.ts';
import { type EtcdServer, startEtcd } from './etcd.ts';
import { executable, onPath } from './paths.ts';
import { freePorts, releasePorts } from './ports.ts';
import { waitUntil } from './probe.ts';
import { exitReason, restartableServer, spawnServer } from './server-process.ts';

const run = promisify(execFile);

/** The Kubernetes release the setup builds (infra/kube-apiserver/go.mod). */
export const KUBE_VERSION = 'v1.37.2';

/** Options of `startKubeApiServer`. */
export interface KubeApiServerOptions {
  /** An etcd to store in (e.g. a suite's shared one), under a fresh `/kube-<random>` prefix; default: one of its own. */
  etcdEndpoints?: string[] | undefined;
  /** The binary (default: env KUBE_APISERVER_BIN, else on PATH, else this repository's setup cache). */
  bin?: string | undefined;
  /** Extra kube-apiserver flags (e.g. `--min-request-timeout=5` for short server-side watch timeouts). */
  extraArgs?: string[] | undefined;
  /** Deadline of a start (and of each restart), in ms (default 90 s: the RBAC bootstrap takes a while). */
  timeoutMs?: number | undefined;
  /** Receives kube-apiserver's output lines, prefixed `[kube-apiserver]`. */
  log?: ((line: string) => void) | undefined;
}

/** A pod of a service, as the endpoint-slice controller sees it. */
export interface KubePod {
  /** Pod IP (not loopback: the API server refuses 127.0.0.0/8 in endpoints; see `podIp()`). */
  ip: string;
  port: number;
  /** Default true. */
  ready?: boolean | undefined;
  /** Being deleted: the controllers publish it not ready (and serving while its readiness probe passes). */
  terminating?: boolean | undefined;
  /** Default `pod-<ip>-<port>`. */
  name?: string | undefined;
}

/** A service account with its token: a kubeconfig for it, and the files a pod would have mounted. */
export interface KubeServiceAccount {
  namespace: string;
  name: string;
  token: string;
  /** A kubeconfig for this account (KUBECONFIG=…). */
  kubeconfig: string;
  /**
   * A directory laid out as /var/run/secrets/kubernetes.io/serviceaccount (token, ca.crt, namespace), plus the env
   * (KUBERNETES_SERVICE_HOST/PORT) that client-go's and client-node's in-cluster config read.
   */
  inCluster: { dir: string; env: Record<string, string> };
}

/** A kube-apiserver of a test's own. */
export interface KubeApiServer {
  /** `https://127.0.0.1:<port>`. */
  url: string;
  host: string;
  port: number;
  /** The CA that signed the server's certificate. */
  caFile: string;
  /** A kubeconfig with cluster-admin rights (system:masters). */
  adminKubeconfig: string;
  /** The etcd it stores in, and its key prefix there. */
  etcdEndpoints: string[];
  etcdPrefix: string;
  /** Sends a request as cluster-admin; resolves with the parsed body, rejects with the API server's message. */
  request<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
  /** Creates (or replaces) an object from its manifest, as `kubectl apply` would for a new one; `dryRun` = server-side dry run. */
  apply<T = unknown>(manifest: Record<string, unknown>, options?: { dryRun?: boolean }): Promise<T>;
  /** Creates the namespace if it does not exist. */
  ensureNamespace(name: string): Promise<void>;
  /**
   * Creates a service account (and its namespace), grants it `rules` through a Role + RoleBinding (none: no
   * rights at all), and asks the TokenRequest API for a token.
   */
  serviceAccount(
    namespace: string,
    name: string,
    rules?: Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }>,
  ): Promise<KubeServiceAccount>;
  /**
   * Publishes a service's pods as the controllers of a cluster would: the Service (first call), one EndpointSlice
   * per distinct port (label kubernetes.io/service-name, ready/serving/terminating conditions), and the legacy
   * Endpoints object (ready pods in addresses, the others in notReadyAddresses) that go-zero before v1.9.4 and
   * so dtm v1.19.0 read. Call it again with the new list of pods to scale up or down.
   */
  publishService(namespace: string, name: string, pods: KubePod[], options?: { portName?: string }): Promise<void>;
  /** Kills the API server (SIGKILL) and waits until it is gone. */
  kill(): Promise<void>;
  /** Starts it again on the same port with the same data; resolves once it is ready. */
  restart(): Promise<void>;
  /** Stops it (and an etcd of its own) and removes its files; safe to call more than once. */
  stop(): Promise<void>;
}

/** Where this repository's setup leaves kube-apiserver: .cache/bin, and a per-user copy. */
function cachedBins(env: NodeJS.ProcessEnv = process.env): string[] {
  const repo = join(import.meta.dirname, '..', '..', '..');
  const user = join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'dtm-gozero-ts', `kube-apiserver-${KUBE_VERSION}`);
  return [join(repo, '.cache', 'bin', 'kube-apiserver'), user];
}

function findBin(wanted: string | undefined): string {
  const explicit = wanted ?? process.env.KUBE_APISERVER_BIN;
  if (explicit) {
    if (executable(explicit)) return explicit;
    throw new TestkitError(`kube-apiserver: ${explicit} is not an executable (bin option or KUBE_APISERVER_BIN)`);
  }
  const found = onPath('kube-apiserver') ?? cachedBins().find(executable);
  if (found) return found;
  throw new TestkitError(
    `startKubeApiServer needs kube-apiserver ${KUBE_VERSION}: not on PATH nor in ${cachedBins().join(', ')}. ` +
      'In this repository `bash scripts/setup-kube.sh` (part of `npm run setup`) builds it from k8s.io/kubernetes ' +
      'through the Go module proxy; elsewhere put a kube-apiserver on PATH or set KUBE_APISERVER_BIN',
  );
}

/** A non-loopback IPv4 address of this machine, usable as a pod IP in endpoints (the API server refuses loopback). */
export function podIp(): string {
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? [])
      if (a.family === 'IPv4' && !a.internal && !a.address.startsWith('169.254.')) return a.address;
  }
  throw new TestkitError(
    'no non-loopback IPv4 address on this machine: Kubernetes endpoints cannot name 127.0.0.0/8, so tests need a pod IP',
  );
}

async function makeCerts(dir: string): Promise<void> {
  const o = (f: string): string => join(dir, f);
  const ssl = (...args: string[]): Promise<unknown> => run('openssl', args, { timeout: 30_000 });
  try {
    await ssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      o('ca.key'),
      '-out',
      o('ca.crt'),
      '-days',
      '2',
      '-subj',
      '/CN=testkit-kube-ca',
    );
    await ssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      o('server.key'),
      '-out',
      o('server.csr'),
      '-subj',
      '/CN=kube-apiserver',
    );
    writeFileSync(
      o('server.ext'),
      'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\n',
    );
    await ssl(
      'x509',
      '-req',
      '-in',
      o('server.csr'),
      '-CA',
      o('ca.crt'),
      '-CAkey',
      o('ca.key'),
      '-CAcreateserial',
      '-out',
      o('server.crt'),
      '-days',
      '2',
      '-extfile',
      o('server.ext'),
    );
    // The key that signs service-account tokens (and its public half, which verifies them).
    await ssl('genrsa', '-out', o('sa.key'), '2048');
    await ssl('rsa', '-in', o('sa.key'), '-pubout', '-out', o('sa.pub'));
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    throw new TestkitError(
      missing
        ? 'startKubeApiServer needs openssl to make the API server certificates; install it (Debian: apt-get install openssl)'
        : `openssl failed making the API server certificates: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

function kubeconfig(server: string, caFile: string, user: string, token: string, namespace = 'default'): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'current-context: testkit',
    'clusters:',
    `- name: testkit\n  cluster:\n    server: ${server}\n    certificate-authority: ${caFile}`,
    'contexts:',
    `- name: testkit\n  context:\n    cluster: testkit\n    user: ${user}\n    namespace: ${namespace}`,
    'users:',
    `- name: ${user}\n  user:\n    token: ${token}`,
    '',
  ].join('\n');
}

/**
 * Starts kube-apiserver on a free loopback port and resolves once it is ready (its RBAC bootstrap done), or rejects
 * with its last output lines. Throws a TestkitError naming what is missing (the binary, openssl).
 */
export async function startKubeApiServer(options: KubeApiServerOptions = {}): Promise<KubeApiServer> {
  const bin = findBin(options.bin);
  const log = options.log ?? (() => undefined);
  const timeoutMs = options.timeoutMs ?? 90_000;
  const dir = mkdtempSync(join(tmpdir(), 'testkit-kube-'));
  let ownEtcd: EtcdServer | undefined;
  const [port] = (await freePorts(1)) as [number];
  const host = '127.0.0.1';
  const url = `https://${host}:${port}`;
  const caFile = join(dir, 'ca.crt');
  const adminToken = randomBytes(24).toString('hex');
  const prefix = `/kube-${randomBytes(6).toString('hex')}`;
  let args: string[] = [];
  const server = restartableServer(
    () => spawnServer(bin, args, { cwd: dir, name: 'kube-apiserver', keep: 40, log }),
    dir,
  );
  let stopped = false;
  const kill = (): Promise<void> => server.kill('SIGKILL');
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await kill();
    await ownEtcd?.stop();
    rmSync(dir, { recursive: true, force: true });
    releasePorts([port]);
    server.release();
  };

  let caCertPem = '';
  const req = <T>(method: string, path: string, body?: unknown): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const r = request(
        `${url}${path}`,
        {
          method,
          ca: caCertPem,
          timeout: 15_000,
          headers: {
            authorization: `Bearer ${adminToken}`,
            accept: 'application/json',
            ...(data ? { 'content-type': 'application/json', 'content-length': data.length } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString();
            let parsed: unknown = text;
            try {
              parsed = JSON.parse(text);
            } catch {
              // not JSON (e.g. /readyz's "ok")
            }
            if ((res.statusCode ?? 500) >= 400) {
              const msg = (parsed as { message?: string })?.message ?? text;
              reject(
                Object.assign(new Error(`${method} ${path}: ${res.statusCode} ${msg}`), { status: res.statusCode }),
              );
            } else resolve(parsed as T);
          });
        },
      );
      r.on('timeout', () => r.destroy(new Error(`${method} ${path}: no answer within 15 s`)));
      r.on('error', reject);
      r.end(data);
    });

  try {
    await makeCerts(dir);
    caCertPem = readFileSync(caFile, 'utf8');
    writeFileSync(join(dir, 'tokens.csv'), `${adminToken},testkit-admin,testkit-admin,system:masters\n`);
    if (!options.etcdEndpoints) ownEtcd = await startEtcd({ log });
    const etcdEndpoints = options.etcdEndpoints ?? ownEtcd?.endpoints ?? [];
    args = [
      `--etcd-servers=${etcdEndpoints.map((e) => (e.includes('://') ? e : `http://${e}`)).join(',')}`,
      `--etcd-prefix=${prefix}`,
      `--bind-address=${host}`,
      `--advertise-address=${host}`,
      `--secure-port=${port}`,
      `--cert-dir=${join(dir, 'certs')}`,
      `--tls-cert-file=${join(dir, 'server.crt')}`,
      `--tls-private-key-file=${join(dir, 'server.key')}`,
      `--client-ca-file=${caFile}`,
      `--token-auth-file=${join(dir, 'tokens.csv')}`,
      '--authorization-mode=RBAC',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${join(dir, 'sa.pub')}`,
      `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
      '--service-cluster-ip-range=10.96.0.0/16',
      // No controller manager here, and the "kubernetes" service's endpoints would name a loopback address.
      '--endpoint-reconciler-type=none',
      '--profiling=false',
      ...(options.extraArgs ?? []),
    ];
    mkdirSync(join(dir, 'certs'), { recursive: true });
    const waitReady = (): Promise<void> =>
      waitUntil(
        async () => (await req<string>('GET', '/readyz')) === 'ok',
        timeoutMs,
        `kube-apiserver at ${url} ready`,
        () => exitReason(server.current()),
        250,
      );
    const { proc } = server.start();
    log(
      `[testkit] started kube-apiserver (pid ${proc.pid}) on ${url}, etcd ${etcdEndpoints.join(',')} prefix ${prefix}`,
    );
    await waitReady();

    const adminKubeconfig = join(dir, 'admin.kubeconfig');
    writeFileSync(adminKubeconfig, kubeconfig(url, caFile, 'testkit-admin', adminToken), { mode: 0o600 });

    const ensureNamespace = async (name: string): Promise<void> => {
      await req('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }).catch(
        (err: { status?: number }) => {
          if (err.status !== 409) throw err;
        },
      );
    };

    const pathOf = (m: Record<string, unknown>): { collection: string; name: string } => {
      const apiVersion = String(m.apiVersion ?? '');
      const kind = String(m.kind ?? '');
      const meta = (m.metadata ?? {}) as { name?: string; namespace?: string };
      const plural: Record<string, string> = {
        Namespace: 'namespaces',
        Service: 'services',
        Endpoints: 'endpoints',
        EndpointSlice: 'endpointslices',
        ServiceAccount: 'serviceaccounts',
        ConfigMap: 'configmaps',
        Secret: 'secrets',
        Deployment: 'deployments',
        StatefulSet: 'statefulsets',
        Job: 'jobs',
        Role: 'roles',
        RoleBinding: 'rolebindings',
        ClusterRole: 'clusterroles',
        ClusterRoleBinding: 'clusterrolebindings',
      };
      const res = plural[kind];
      if (!res)
        throw new TestkitError(`apply: kind ${kind} is not one the testkit knows (${Object.keys(plural).join(', ')})`);
      const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
      const clusterScoped = ['Namespace', 'ClusterRole', 'ClusterRoleBinding'].includes(kind);
      const ns = clusterScoped ? '' : `/namespaces/${meta.namespace ?? 'default'}`;
      return { collection: `${base}${ns}/${res}`, name: meta.name ?? '' };
    };

    const apply = async <T>(manifest: Record<string, unknown>, o: { dryRun?: boolean } = {}): Promise<T> => {
      const { collection, name } = pathOf(manifest);
      const q = o.dryRun ? '?dryRun=All' : '';
      try {
        return await req<T>('POST', `${collection}${q}`, manifest);
      } catch (err) {
        if ((err as { status?: number }).status !== 409 || o.dryRun) throw err;
        // Exists: replace it, keeping the stored resourceVersion (and, for a Service, its cluster IP).
        const cur = await req<{ metadata: { resourceVersion: string }; spec?: Record<string, unknown> }>(
          'GET',
          `${collection}/${name}`,
        );
        const next = structuredClone(manifest) as { metadata: Record<string, unknown>; spec?: Record<string, unknown> };
        next.metadata.resourceVersion = cur.metadata.resourceVersion;
        if (manifest.kind === 'Service' && cur.spec && next.spec) {
          next.spec.clusterIP = cur.spec.clusterIP;
          next.spec.clusterIPs = cur.spec.clusterIPs;
        }
        return await req<T>('PUT', `${collection}/${name}`, next);
      }
    };

    const serviceAccount = async (
      namespace: string,
      name: string,
      rules: Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }> = [],
    ): Promise<KubeServiceAccount> => {
      await ensureNamespace(namespace);
      await apply({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace } });
      if (rules.length > 0) {
        await apply({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name, namespace }, rules });
        await apply({
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'RoleBinding',
          metadata: { name, namespace },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
          subjects: [{ kind: 'ServiceAccount', name, namespace }],
        });
      }
      const tr = await req<{ status: { token: string } }>(
        'POST',
        `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`,
        { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 7200 } },
      );
      const token = tr.status.token;
      const saDir = join(dir, 'sa', `${namespace}-${name}`);
      mkdirSync(saDir, { recursive: true });
      writeFileSync(join(saDir, 'token'), token, { mode: 0o600 });
      writeFileSync(join(saDir, 'ca.crt'), caCertPem);
      writeFileSync(join(saDir, 'namespace'), namespace);
      const kc = join(dir, 'sa', `${namespace}-${name}.kubeconfig`);
      writeFileSync(kc, kubeconfig(url, caFile, `${namespace}-${name}`, token, namespace), { mode: 0o600 });
      return {
        namespace,
        name,
        token,
        kubeconfig: kc,
        inCluster: { dir: saDir, env: { KUBERNETES_SERVICE_HOST: host, KUBERNETES_SERVICE_PORT: String(port) } },
      };
    };

    const published = new Map<string, Set<string>>();
    const publishService = async (
      namespace: string,
      name: string,
      pods: KubePod[],
      o: { portName?: string } = {},
    ): Promise<void> => {
      const portName = o.portName ?? 'grpc';
      const key = `${namespace}/${name}`;
      await ensureNamespace(namespace);
      if (!published.has(key)) {
        const first = pods[0]?.port ?? 8080;
        await apply({
          apiVersion: 'v1',
          kind: 'Service',
          metadata: { name, namespace },
          spec: {
            selector: { app: name },
            ports: [{ name: portName, port: first, targetPort: portName, protocol: 'TCP' }],
          },
        });
        published.set(key, new Set());
      }
      const podName = (p: KubePod): string => p.name ?? `${name}-${p.ip.replaceAll('.', '-')}-${p.port}`;
      const ready = (p: KubePod): boolean => (p.ready ?? true) && !p.terminating;
      // The endpoint-slice controller: one slice per port set (here, per port), endpoints with conditions.
      const byPort = new Map<number, KubePod[]>();
      for (const p of pods) byPort.set(p.port, [...(byPort.get(p.port) ?? []), p]);
      const slices = new Set<string>();
      for (const [p, group] of byPort) {
        const sliceName = `${name}-${p}`;
        slices.add(sliceName);
        await apply({
          apiVersion: 'discovery.k8s.io/v1',
          kind: 'EndpointSlice',
          metadata: {
            name: sliceName,
            namespace,
            labels: {
              'kubernetes.io/service-name': name,
              'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
            },
          },
          addressType: 'IPv4',
          ports: [{ name: portName, port: p, protocol: 'TCP' }],
          endpoints: group.map((pod) => ({
            addresses: [pod.ip],
            conditions: { ready: ready(pod), serving: pod.ready ?? true, terminating: pod.terminating ?? false },
            targetRef: { kind: 'Pod', name: podName(pod), namespace },
          })),
        });
      }
      for (const old of published.get(key) ?? []) {
        if (!slices.has(old))
          await req('DELETE', `/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices/${old}`).catch(
            (err: { status?: number }) => {
              if (err.status !== 404) throw err;
            },
          );
      }
      published.set(key, slices);
      // The endpoints controller (what go-zero v1.4.4, and so dtm v1.19.0, watch): one subset per port.
      await apply({
        apiVersion: 'v1',
        kind: 'Endpoints',
        metadata: { name, namespace },
        subsets: [...byPort].map(([p, group]) => ({
          ports: [{ name: portName, port: p, protocol: 'TCP' }],
          ...(group.some(ready)
            ? {
                addresses: group
                  .filter(ready)
                  .map((pod) => ({ ip: pod.ip, targetRef: { kind: 'Pod', name: podName(pod), namespace } })),
              }
            : {}),
          ...(group.some((q) => !ready(q))
            ? {
                notReadyAddresses: group
                  .filter((q) => !ready(q))
                  .map((pod) => ({ ip: pod.ip, targetRef: { kind: 'Pod', name: podName(pod), namespace } })),
              }
            : {}),
        })),
      });
    };

    return {
      url,
      host,
      port,
      caFile,
      adminKubeconfig,
      etcdEndpoints,
      etcdPrefix: prefix,
      request: req,
      apply,
      ensureNamespace,
      serviceAccount,
      publishService,
      kill,
      restart: async () => {
        await kill();
        server.start();
        await waitReady();
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * The command that runs `argv` as a process in a pod of `sa` would see the cluster: client-go (go-zero, dtm's
 * go-zero driver) reads its in-cluster token and CA only from the fixed /var/run/secrets/kubernetes.io/serviceaccount,
 * so `argv` runs in a private mount namespace (`unshare -m`, as root) with a tmpfs on /run (/var/run) holding that
 * directory; nothing outside the namespace sees it. Pass `env` (KUBERNETES_SERVICE_HOST/PORT) to the process too.
 */
export function inClusterCommand(
  sa: KubeServiceAccount,
  argv: string[],
): { command: string; args: string[]; env: Record<string, string> } {
  if (process.getuid?.() !== 0)
    throw new TestkitError(
      'inClusterCommand needs root (a mount namespace with a tmpfs on /run); run the test as root',
    );
  const unshare = onPath('unshare');
  if (!unshare) throw new TestkitError('inClusterCommand needs unshare (util-linux); install it');
  const script =
    'set -e; mount -t tmpfs tmpfs /run; d=/run/secrets/kubernetes.io/serviceaccount; mkdir -p "$d"; ' +
    'cp "$SA_DIR/token" "$SA_DIR/ca.crt" "$SA_DIR/namespace" "$d/"; exec "$@"';
  return {
    command: unshare,
    args: ['--mount', '--propagation', 'private', 'sh', '-c', script, 'in-cluster', ...argv],
    env: { ...sa.inCluster.env, SA_DIR: sa.inCluster.dir },
  };
}
