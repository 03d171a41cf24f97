import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { afterAll, describe, expect, test } from 'vitest';
import { buildTarget, parseServerMethod, parseTarget } from '../zrpc/target.ts';
import { describeKubeError, KubeError, loadKubeConfig } from './config.ts';
import { readyAddresses, type SliceLike, whyNoAddress } from './endpoints.ts';

describe('k8s:// targets, the forms go-zero accepts', () => {
  test.each([
    ['k8s://prod/trans:8080', { namespace: 'prod', service: 'trans', port: 8080 }],
    ['k8s:///trans:8080', { namespace: 'default', service: 'trans', port: 8080 }],
    ['k8s://prod/trans', { namespace: 'prod', service: 'trans', port: undefined }],
    ['k8s://prod/trans:grpc', { namespace: 'prod', service: 'trans', port: 'grpc' }],
  ])('%s', (target, want) => {
    expect(parseTarget(target)).toEqual({ scheme: 'k8s', ...want });
  });

  test.each([
    ['k8s://prod/', /names no service/],
    ['k8s://prod/trans:', /port "" is neither a number nor a port name/],
    ['k8s://prod/trans:70000', /port 70000 is outside 1\.\.65535/],
    ['k8s://prod/trans:0', /outside 1\.\.65535/],
    ['k8s://Prod/trans:8080', /namespace "Prod" is not a Kubernetes name/],
    ['k8s://prod/trans.prod:8080', /service "trans\.prod" is not a Kubernetes service name/],
    ['k8s://prod/a/b:1', /service "a\/b" is not/],
    ['k8s://prod', /is malformed; expected .*k8s:\/\/namespace\/service:port/],
  ])('%s is refused, naming the form', (target, message) => {
    expect(() => parseTarget(target)).toThrow(message);
    expect(() => parseTarget(target)).toThrow(/k8s:\/\//);
  });

  test('Target: k8s://… in the YAML is used verbatim, and dtm branch URLs split as its go-zero driver does', () => {
    expect(buildTarget({ Target: 'k8s://prod/trans:8080', NonBlock: false, Timeout: 0 })).toBe('k8s://prod/trans:8080');
    expect(parseServerMethod('k8s://prod/trans:8080/trans.TransSvc/TransOut')).toEqual({
      server: 'k8s://prod/trans:8080',
      method: '/trans.TransSvc/TransOut',
    });
    expect(() => parseServerMethod('k8s://prod/Trans:8080/trans.TransSvc/TransOut')).toThrow(/service "Trans"/);
  });
});

const slice = (
  name: string,
  endpoints: Array<[string, boolean | undefined]>,
  ports: Array<[string, number]> = [['grpc', 8080]],
  addressType = 'IPv4',
): SliceLike => ({
  metadata: { name },
  addressType,
  endpoints: endpoints.map(([ip, ready]) => ({ addresses: [ip], conditions: ready === undefined ? {} : { ready } })),
  ports: ports.map(([n, p]) => ({ name: n, port: p, protocol: 'TCP' })),
});

describe('readyAddresses: the pods to dial', () => {
  const slices = [
    slice('a', [
      ['10.0.0.2', true],
      ['10.0.0.1', undefined],
      ['10.0.0.3', false],
    ]),
    slice('b', [['10.0.0.4', true]], [['grpc', 9090]]),
    slice('c', [['10.0.0.2', true]]),
    slice('fqdn', [['x.example', true]], [['grpc', 8080]], 'FQDN'),
  ];

  test('ready (or unknown) endpoints only, no duplicates, sorted; a number applies to every pod (go-zero)', () => {
    expect(readyAddresses(slices, 7000)).toEqual([
      { host: '10.0.0.1', port: 7000 },
      { host: '10.0.0.2', port: 7000 },
      { host: '10.0.0.4', port: 7000 },
    ]);
  });

  test('a port name or no port is looked up in each slice', () => {
    expect(readyAddresses(slices, 'grpc')).toEqual([
      { host: '10.0.0.1', port: 8080 },
      { host: '10.0.0.2', port: 8080 },
      { host: '10.0.0.4', port: 9090 },
    ]);
    expect(readyAddresses(slices, undefined)).toEqual(readyAddresses(slices, 'grpc'));
    expect(readyAddresses(slices, 'metrics')).toEqual([]);
  });

  test('why there is nothing to dial', () => {
    const t = { namespace: 'prod', service: 'trans', port: 'grpc' };
    expect(whyNoAddress([], t)).toMatch(
      /no EndpointSlice labelled kubernetes.io\/service-name=trans in namespace "prod"/,
    );
    expect(whyNoAddress([slice('a', [['10.0.0.1', false]])], t)).toMatch(/has no ready pod/);
    expect(whyNoAddress([slice('a', [['10.0.0.1', true]], [['http', 80]])], { ...t, port: 'grpc' })).toMatch(
      /has no "grpc" port \(its ports: http\)/,
    );
  });
});

describe('configuration: in-cluster, else kubeconfig, else one clear error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kube-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('nothing at all', () => {
    const err = (() => {
      try {
        loadKubeConfig(k8s, { HOME: dir });
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(KubeError);
    expect(err?.message).toMatch(/not in a pod \(KUBERNETES_SERVICE_HOST is not set\) and no kubeconfig/);
    expect(err?.message).toMatch(/set KUBECONFIG/);
  });

  test('in-cluster env without the service-account token falls through to the same error, naming the token', () => {
    expect(() =>
      loadKubeConfig(k8s, { HOME: dir, KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' }),
    ).toThrow(/no service-account token at \/var\/run\/secrets\/kubernetes.io\/serviceaccount\/token/);
  });

  test('KUBECONFIG naming a missing file, or an unreadable one', () => {
    expect(() => loadKubeConfig(k8s, { HOME: dir, KUBECONFIG: join(dir, 'nope') })).toThrow(
      /KUBECONFIG names .*nope, which does not exist/,
    );
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'clusters: [oops');
    expect(() => loadKubeConfig(k8s, { HOME: dir, KUBECONFIG: bad })).toThrow(
      /kubeconfig .*bad\.yaml \(KUBECONFIG\) cannot be read/,
    );
    const empty = join(dir, 'empty.yaml');
    writeFileSync(empty, 'apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n');
    expect(() => loadKubeConfig(k8s, { HOME: dir, KUBECONFIG: empty })).toThrow(/names no current cluster/);
  });

  test('a kubeconfig is read', () => {
    const f = join(dir, 'ok.yaml');
    writeFileSync(
      f,
      'apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters: [{name: k, cluster: {server: "https://127.0.0.1:6443"}}]\n' +
        'contexts: [{name: c, context: {cluster: k, user: u}}]\nusers: [{name: u, user: {token: sekret}}]\n',
    );
    expect(loadKubeConfig(k8s, { HOME: dir, KUBECONFIG: f })).toMatchObject({ server: 'https://127.0.0.1:6443' });
  });

  test('a 403 names the permission to grant; nothing says the token', () => {
    const body = JSON.stringify({
      kind: 'Status',
      message:
        'endpointslices.discovery.k8s.io is forbidden: User "system:serviceaccount:prod:app" cannot list resource "endpointslices"',
      code: 403,
    });
    const e = describeKubeError(
      new k8s.ApiException(403, 'Forbidden', body, {}),
      'list endpointslices',
      'https://x:6443',
    );
    expect(e.status).toBe(403);
    expect(e.message).toMatch(
      /forbids list endpointslices .*cannot list resource "endpointslices".*grant get, list and watch on endpointslices/,
    );
    const down = describeKubeError(
      new TypeError('fetch failed', { cause: Object.assign(new Error('x'), { code: 'ECONNREFUSED' }) }),
      'watch',
      'https://x:6443',
    );
    expect(down.message).toBe('cannot reach the Kubernetes API server at https://x:6443 for watch: ECONNREFUSED');
  });
});

test('without the optional peer @kubernetes/client-node, a k8s:// target says what to install', () => {
  // A resolve hook hides the package, as in an install without it.
  const dir = mkdtempSync(join(tmpdir(), 'kube-nolib-'));
  const hide = join(dir, 'hide.mjs');
  writeFileSync(
    hide,
    `import { registerHooks } from 'node:module';
registerHooks({ resolve(spec, ctx, next) {
  if (spec === '@kubernetes/client-node')
    throw Object.assign(new Error("Cannot find package '@kubernetes/client-node'"), { code: 'ERR_MODULE_NOT_FOUND' });
  return next(spec, ctx);
} });`,
  );
  const script = join(dir, 'run.mjs');
  writeFileSync(
    script,
    `import { resolveTarget } from ${JSON.stringify(join(import.meta.dirname, '..', 'zrpc', 'resolve.ts'))};
await resolveTarget('k8s://prod/trans:8080').catch((e) => console.log(e.reason + ': ' + e.message));`,
  );
  const r = spawnSync(process.execPath, ['--import', hide, script], { encoding: 'utf8', timeout: 30_000 });
  rmSync(dir, { recursive: true, force: true });
  expect(r.stdout.trim(), r.stderr).toBe(
    'kube-unreachable: k8s://prod/trans:8080: k8s:// targets need the optional peer dependency @kubernetes/client-node: npm install @kubernetes/client-node',
  );
});
