// The Kubernetes path end to end, against a real kube-apiserver (@dtm-gozero/testkit): our trans is a "pod" (on
// this machine's non-loopback address, published as the endpoint controllers would), and
//   - dtm v1.19.0 runs with MicroService.Target "" and its in-cluster config pointed at the test API server (a
//     private mount namespace holds the service-account files where client-go reads them), so its go-zero driver
//     resolves the k8s:// branch URLs the app sends; the app (our client) finds trans through `Target: k8s://…`;
//   - a real go-zero v1.4.4 client (interop/go-client) calls trans through k8s:// the same way.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { APP, eventually, freePorts, type Proc, root, runCommand, runNode, TRANS, tempFile } from '@dtm-gozero/devkit';
import { dtmQuery } from '@dtm-gozero/devkit/dtm';
import { testStack } from '@dtm-gozero/devkit/stack';
import {
  inClusterCommand,
  type KubeApiServer,
  type KubeServiceAccount,
  podIp,
  startKubeApiServer,
} from '@dtm-gozero/testkit';
import { afterAll, beforeAll, expect, test } from 'vitest';

const DTM = process.env.DTM_BIN || join(root, '.cache/bin/dtm');
const GO_CLIENT = join(root, '.cache/bin/go-trans-client');
const ip = podIp();
const procs: Proc[] = [];
let kube: KubeApiServer;
let sa: KubeServiceAccount;
let transPort: number;
let trans: Proc;
let dtmGrpc: number;
let dtmHttp: number;
/** dtm's working directory (its boltdb file). */
const dtmDir = mkdtempSync(join(tmpdir(), 'kube-dtm-'));

/** Runs `argv` as in a pod of `sa`. */
function inCluster(argv: string[], cwd: string): Proc {
  const c = inClusterCommand(sa, argv);
  // Only what the program needs: no KUBECONFIG or other settings of the test's environment.
  const p = runCommand(c.command, c.args, cwd, { ...c.env, KUBECONFIG: '' });
  procs.push(p);
  return p;
}

beforeAll(async () => {
  for (const script of ['interop/go-client/build.sh']) {
    const r = spawnSync('bash', [join(root, script)], { cwd: root, encoding: 'utf8', timeout: 600_000 });
    if (r.status !== 0) throw new Error(`${script} failed:\n${r.stdout}\n${r.stderr}`);
  }
  if (!existsSync(DTM)) throw new Error(`dtm is not at ${DTM}: run npm run setup`);
  kube = await startKubeApiServer({ etcdEndpoints: testStack().etcdEndpoints });
  // What deploy/k8s/10-rbac.yaml grants: our resolver reads EndpointSlices, go-zero v1.4.4 (dtm's) Endpoints.
  sa = await kube.serviceAccount('shop', 'dtm-gozero', [
    { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] },
    { apiGroups: [''], resources: ['endpoints'], verbs: ['get', 'list', 'watch'] },
  ]);

  [transPort, dtmGrpc, dtmHttp] = (await freePorts(3)) as [number, number, number];
  // trans without etcd, as in deploy/k8s: listening on the "pod IP".
  const conf = tempFile('trans.yaml', `Name: trans.rpc\nListenOn: ${ip}:${transPort}\nMode: test\n`);
  trans = runNode(TRANS, ['-f', conf], join(root, 'apps/trans'));
  procs.push(trans);
  await trans.waitFor(/Starting rpc server at/, 20_000);
  await kube.publishService('shop', 'trans', [{ ip, port: transPort }]);

  // dtm with the go-zero driver and no registry (deploy/k8s/20-dtm.yaml), in its "pod".
  const dtmConf = tempFile(
    'dtm.yml',
    [
      'MicroService:',
      '  Driver: dtm-driver-gozero',
      '  Target: ""',
      `  EndPoint: 127.0.0.1:${dtmGrpc}`,
      `HttpPort: ${dtmHttp}`,
      `GrpcPort: ${dtmGrpc}`,
      'TransCronInterval: 3',
      'RequestTimeout: 3',
      'LogLevel: info',
      '',
    ].join('\n'),
  );
  const dtm = inCluster([DTM, '-c', dtmConf], dtmDir);
  await eventually(
    async () => ((await fetch(`http://127.0.0.1:${dtmHttp}/api/ping`)).ok ? true : undefined),
    30_000,
    `dtm answering on :${dtmHttp} (its output: ${dtm.stderr().slice(-2000)})`,
  );
}, 700_000);

afterAll(async () => {
  for (const p of procs) p.kill('SIGKILL');
  await kube?.stop();
  rmSync(dtmDir, { recursive: true, force: true });
});

test('the app reaches trans through Target: k8s://…, and dtm resolves the k8s:// branch URLs: a msg and a TCC succeed', async () => {
  const target = `k8s://shop/trans:${transPort}`;
  const appConf = tempFile('config.yaml', `Target: ${target}\n`);
  const app = runNode(
    APP,
    ['-f', appConf, '--dtm', `127.0.0.1:${dtmGrpc}`, '--dtm-http', `http://127.0.0.1:${dtmHttp}`],
    join(root, 'apps/app'),
    { KUBECONFIG: sa.kubeconfig, KUBERNETES_SERVICE_HOST: '' },
  );
  procs.push(app);
  const code = await app.exited(90_000);
  expect(code, `${app.stdout()}\n${app.stderr()}`).toBe(0);
  const lines = app.stdout().trim().split('\n');
  const msg = /^msg (\S+) succeed$/.exec(lines.find((l) => l.startsWith('msg ')) ?? '');
  const tcc = /^tcc (\S+) succeed$/.exec(lines.find((l) => l.startsWith('tcc ')) ?? '');
  expect(msg, app.stdout()).not.toBeNull();
  expect(tcc, app.stdout()).not.toBeNull();
  // dtm called the branches by their k8s:// URLs (nothing else could have found trans: no etcd, no direct address).
  for (const gid of [msg?.[1], tcc?.[1]]) {
    const t = await dtmQuery(gid as string, `http://127.0.0.1:${dtmHttp}`);
    expect(t.branches.length).toBeGreaterThan(0);
    for (const b of t.branches) expect(b.url).toMatch(new RegExp(`^${target}/trans\\.TransSvc/Trans(Out|In)$`));
  }
  // trans served them: the msg's two branches and the TCC's try and confirm.
  await eventually(
    async () => (((trans.stdout() + trans.stderr()).match(/transfer (in|out)/g) ?? []).length >= 4 ? true : undefined),
    10_000,
    `trans's four transfer lines (its output: ${trans.stderr()})`,
  );
}, 120_000);

test('a go-zero v1.4.4 client calls our trans through k8s:// (in-cluster config, the Endpoints it watches)', async () => {
  const go = inCluster([GO_CLIENT, '-target', `k8s://shop/trans:${transPort}`, '-n', '6', '-timeout', '15s'], root);
  expect(await go.exited(30_000), go.stderr()).toBe(0);
  expect(go.stdout().trim()).toBe('ok');
}, 60_000);

test("go-zero's answer to a service that does not exist: the dial fails at once (the Endpoints get is a 404)", async () => {
  // What go-zero v1.4.4 does, which our resolver reports as "no EndpointSlice … the service does not exist".
  const go = inCluster([GO_CLIENT, '-target', 'k8s://shop/nosuch:50081', '-timeout', '15s'], root);
  expect(await go.exited(30_000)).not.toBe(0);
  expect(go.stderr()).toMatch(/endpoints "nosuch" not found/);
}, 60_000);

test("our resolver in a pod: the service account's in-cluster config (no kubeconfig), as go-zero's", async () => {
  const script = tempFile(
    'resolve.ts',
    `import { resolveTarget } from ${JSON.stringify(join(root, 'libs/gozero/src/zrpc/resolve.ts'))};
console.log((await resolveTarget('k8s://shop/trans:${transPort}')).join(','));`,
  );
  const p = inCluster([process.execPath, script], root);
  expect(await p.exited(30_000), p.stderr()).toBe(0);
  expect(p.stdout().trim()).toBe(`${ip}:${transPort}`);
}, 60_000);
