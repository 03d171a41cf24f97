// deploy/k8s/ applied to a real kube-apiserver (@dtm-gozero/testkit): the namespace and RBAC for real, the
// workloads with a server-side dry run (full validation and admission, nothing stored), so a broken manifest fails
// CI. Then the service account those workloads run as may read exactly what the k8s:// resolvers read.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { root } from '@dtm-gozero/devkit';
import { testStack } from '@dtm-gozero/devkit/stack';
import { type KubeApiServer, startKubeApiServer } from '@dtm-gozero/testkit';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { parseAllDocuments } from 'yaml';

const DIR = join(root, 'deploy/k8s');
type Manifest = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } } & Record<
  string,
  unknown
>;
const manifests: Manifest[] = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .flatMap((f) => parseAllDocuments(readFileSync(join(DIR, f), 'utf8')).map((d) => d.toJS() as Manifest));

let kube: KubeApiServer;
beforeAll(async () => {
  kube = await startKubeApiServer({ etcdEndpoints: testStack().etcdEndpoints });
}, 180_000);
afterAll(() => kube?.stop());

const kinds = (k: string[]) => manifests.filter((m) => k.includes(m.kind));

test('the manifests are what the docs say: dtm without a registry, trans and app through k8s://, probes, POD_IP', () => {
  const text = (name: string) => readFileSync(join(DIR, name), 'utf8');
  const dtmCm = kinds(['ConfigMap']).find((m) => m.metadata.name === 'dtm-config') as unknown as {
    data: Record<string, string>;
  };
  const dtmConf = dtmCm.data['config.yaml'];
  expect(dtmConf).toMatch(/Target: ""/);
  expect(text('40-app.yaml')).toMatch(/Target: k8s:\/\/dtm-gozero\/trans:50081/);
  const trans = kinds(['Deployment']).find((m) => m.metadata.name === 'trans') as unknown as {
    spec: { template: { spec: { containers: Array<Record<string, unknown>> } } };
  };
  const c = trans.spec.template.spec.containers[0] as {
    env: Array<{ name: string; valueFrom: unknown }>;
    readinessProbe: { grpc: { port: number } };
    livenessProbe: { grpc: { port: number } };
  };
  expect(c.env).toContainEqual({ name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } });
  expect(c.readinessProbe.grpc.port).toBe(50081);
  expect(c.livenessProbe.grpc.port).toBe(50081);
});

test('every manifest is accepted by the API server (RBAC created, workloads server-side dry run)', async () => {
  for (const m of kinds(['Namespace', 'ServiceAccount', 'Role', 'RoleBinding'])) await kube.apply(m);
  const refused: string[] = [];
  for (const m of kinds(['ConfigMap', 'Service', 'Deployment', 'Job'])) {
    await kube
      .apply(m, { dryRun: true })
      .catch((err: Error) => refused.push(`${m.kind}/${m.metadata.name}: ${err.message}`));
  }
  expect(refused).toEqual([]);
  expect(manifests.map((m) => `${m.kind}/${m.metadata.name}`).sort()).toEqual(
    [
      'ConfigMap/app-config',
      'ConfigMap/dtm-config',
      'ConfigMap/trans-config',
      'Deployment/dtm',
      'Deployment/trans',
      'Job/app',
      'Namespace/dtm-gozero',
      'Role/endpoints-reader',
      'RoleBinding/dtm-gozero-endpoints-reader',
      'Service/dtm',
      'Service/trans',
      'ServiceAccount/dtm-gozero',
    ].sort(),
  );
  // A broken one is refused (so the check above can fail): a Deployment whose probe names no port.
  const dtm = structuredClone(kinds(['Deployment'])[0]) as Manifest & {
    spec: { template: { spec: { containers: Array<{ readinessProbe: unknown }> } } };
  };
  (dtm.spec.template.spec.containers[0] as { readinessProbe: unknown }).readinessProbe = { grpc: {} };
  await expect(kube.apply(dtm, { dryRun: true })).rejects.toThrow(/422|Invalid/);
}, 120_000);

test("the workloads' service account may list and watch endpointslices and endpoints in its namespace, nothing more", async () => {
  const review = async (resource: string, group: string, verb: string, namespace = 'dtm-gozero') =>
    (
      await kube.request<{ status: { allowed: boolean } }>(
        'POST',
        '/apis/authorization.k8s.io/v1/subjectaccessreviews',
        {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SubjectAccessReview',
          spec: {
            user: 'system:serviceaccount:dtm-gozero:dtm-gozero',
            groups: ['system:serviceaccounts', 'system:serviceaccounts:dtm-gozero', 'system:authenticated'],
            resourceAttributes: { namespace, verb, group, resource },
          },
        },
      )
    ).status.allowed;
  for (const verb of ['get', 'list', 'watch']) {
    expect(await review('endpointslices', 'discovery.k8s.io', verb), `endpointslices ${verb}`).toBe(true);
    expect(await review('endpoints', '', verb), `endpoints ${verb}`).toBe(true);
  }
  expect(await review('endpointslices', 'discovery.k8s.io', 'list', 'kube-system')).toBe(false);
  expect(await review('secrets', '', 'get')).toBe(false);
  expect(await review('endpointslices', 'discovery.k8s.io', 'delete')).toBe(false);
}, 60_000);
