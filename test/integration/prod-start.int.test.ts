// The production start path: `npm run trans:prod` builds and runs trans from dist/ — no TypeScript file loaded (so
// no type stripping), none of the modules a production trans does not use (reflection, the top-level proto-loader,
// the database drivers) — and it serves. In dev Mode the same trans still imports reflection, on demand, and serves it.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { freePort, type Proc, root, runCommand, runNode, TRANS, tempFile } from '@dtm-gozero/devkit';
import { testStack } from '@dtm-gozero/devkit/stack';
import { AdjustInfo } from '@dtm-gozero/proto/trans';
import { credentials, loadPackageDefinition } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { afterEach, expect, test } from 'vitest';
import { rawCall } from '../support/bank-fixture.ts';

// Plain JavaScript (a .ts preload would itself load type stripping): records every module trans loads, through
// node:module's synchronous hooks (import and require alike). Only in trans: npm and tsc get NODE_OPTIONS too.
const TRACER = `import { appendFileSync } from 'node:fs';
import { registerHooks } from 'node:module';
const out = process.env.TRACE_MODULES_FILE;
if (out && /trans\\.[jt]s$/.test(process.argv[1] ?? ''))
  registerHooks({ load(url, context, next) { appendFileSync(out, url + '\\n'); return next(url, context); } });
`;

function traced(): { env: NodeJS.ProcessEnv; modules(): string[] } {
  const tracer = tempFile('trace-modules.mjs', TRACER);
  const out = tempFile('modules.txt', '');
  return {
    env: { NODE_OPTIONS: `--import ${pathToFileURL(tracer).href}`, TRACE_MODULES_FILE: out },
    modules: () => readFileSync(out, 'utf8').split('\n').filter(Boolean),
  };
}

function transYaml(port: number, key: string, extra = ''): string {
  const hosts = testStack()
    .etcdEndpoints.map((h) => `    - ${h}\n`)
    .join('');
  return tempFile(
    'trans.yaml',
    `Name: trans.rpc\nListenOn: 127.0.0.1:${port}\nEtcd:\n  Hosts:\n${hosts}  Key: ${key}\n${extra}`,
  );
}

/** Module URLs of development-only or unused packages: @grpc/reflection, trans's own @grpc/proto-loader, mysql2, pg. */
const unwanted = (mods: string[]): string[] =>
  mods.filter(
    (u) =>
      /\/node_modules\/@grpc\/reflection\//.test(u) ||
      // trans's own proto-loader (for reflection); the etcd client (etcd3) and the health service (grpc-health-check)
      // load copies of their own, nested under their node_modules/: not those
      (/\/node_modules\/@grpc\/proto-loader\//.test(u) &&
        !/\/node_modules\/.+\/node_modules\/@grpc\/proto-loader\//.test(u)) ||
      /\/node_modules\/(mysql2|pg)\//.test(u),
  );

let proc: Proc | undefined;
let group = false; // npm's run: signal its process group (npm, the shell, node), as a terminal does
afterEach(async () => {
  if (proc && proc.child.exitCode === null) {
    if (group) process.kill(-(proc.child.pid as number), 'SIGTERM');
    else proc.kill('SIGTERM');
    await proc.exited(20_000).catch(() => proc?.child.kill('SIGKILL'));
  }
  proc = undefined;
  group = false;
});

test('npm run trans:prod runs trans from dist/ with no .ts file and no dev-only module loaded, and it serves', async () => {
  const port = await freePort();
  const t = traced();
  group = true;
  proc = runCommand(
    'npm',
    ['run', '--silent', 'trans:prod', '--', '-f', transYaml(port, `prod-${randomUUID()}`)],
    root,
    t.env,
    'npm run trans:prod',
    { group: true },
  );
  await proc.waitFor(/Starting rpc server at/, 90_000); // npm run build first (incremental)
  const r = await rawCall(port, 'TransOut', AdjustInfo.encode({ Amount: 30n, UserID: 1n }).finish());
  expect(r, proc.stderr()).toMatchObject({ code: 0 });
  await proc.waitFor(/transfer out 30 cents from 1/, 10_000);

  const mods = t.modules();
  expect(mods).toContain(pathToFileURL(join(root, 'apps/trans/dist/trans.js')).href);
  expect(mods).toContain(pathToFileURL(join(root, 'libs/gozero/dist/index.js')).href);
  expect(mods.filter((u) => u.endsWith('.ts'))).toEqual([]);
  expect(unwanted(mods)).toEqual([]);
  // The check can fail: etcd3's own proto-loader is loaded, and recognised as etcd3's.
  expect(mods.some((u) => u.includes('/node_modules/etcd3/node_modules/@grpc/proto-loader/'))).toBe(true);
}, 120_000);

test('in dev Mode trans imports reflection when it starts, and serves it (grpcurl lists TransSvc)', async () => {
  const port = await freePort();
  const t = traced();
  proc = runNode(TRANS, ['-f', transYaml(port, `dev-${randomUUID()}`, 'Mode: dev\n')], join(root, 'apps/trans'), t.env);
  await proc.waitFor(/Starting rpc server at/, 30_000);
  expect(unwanted(t.modules()).some((u) => u.includes('/@grpc/reflection/'))).toBe(true);

  const file = join(root, 'node_modules/@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto');
  // biome-ignore lint/suspicious/noExplicitAny: a package definition loaded at run time
  const pkg = loadPackageDefinition(loadSync(file)) as any;
  const client = new pkg.grpc.reflection.v1.ServerReflection(`127.0.0.1:${port}`, credentials.createInsecure());
  try {
    const names = await new Promise<string[]>((resolve, reject) => {
      const call = client.serverReflectionInfo({ deadline: Date.now() + 10_000 });
      call.on('data', (res: { listServicesResponse?: { service: { name: string }[] } }) => {
        resolve(res.listServicesResponse?.service.map((s) => s.name) ?? []);
        call.end();
      });
      call.on('error', reject);
      call.write({ listServices: '' });
    });
    expect(names).toContain('trans.TransSvc');
  } finally {
    client.close();
  }
}, 60_000);
