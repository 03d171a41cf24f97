// The production start path: `npm run trans:prod` builds and runs trans from dist/ — no TypeScript file loaded (so
// no type stripping), none of the modules a production trans does not use (reflection, the top-level proto-loader,
// the database drivers, the OpenTelemetry SDK and propagators, prom-client, Node's bundled undici) — and it serves.
// Each loads when the configuration uses it: reflection in dev Mode, the SDK with Telemetry, prom-client with the
// DevServer's metrics, the propagators with the first traceparent, and only the configured bank's driver.
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { freePort, type Proc, root, runCommand, runNode, TRANS, tempFile } from '@dtm-gozero/devkit';
import { testDatabases, testStack } from '@dtm-gozero/devkit/stack';
import { AdjustInfo } from '@dtm-gozero/proto/trans';
import { credentials, loadPackageDefinition, Metadata } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { afterEach, expect, test } from 'vitest';
import { dtmMetadata, rawCall } from '../support/bank-fixture.ts';

// Plain JavaScript (a .ts preload would itself load type stripping): records every module trans loads, through
// node:module's synchronous hooks (import and require alike), and at exit Node's own internal modules (which no hook
// sees: process.moduleLoadList). Only in trans: npm and tsc get NODE_OPTIONS too.
const TRACER = `import { appendFileSync, writeFileSync } from 'node:fs';
import { registerHooks } from 'node:module';
const out = process.env.TRACE_MODULES_FILE;
if (out && /trans\\.[jt]s$/.test(process.argv[1] ?? '')) {
  registerHooks({ load(url, context, next) { appendFileSync(out, url + '\\n'); return next(url, context); } });
  process.on('exit', () => writeFileSync(out + '.internal', process.moduleLoadList.join('\\n')));
}
`;

function traced(): { env: NodeJS.ProcessEnv; modules(): string[]; internal(ms: number): Promise<string[]> } {
  const tracer = tempFile('trace-modules.mjs', TRACER);
  const out = tempFile('modules.txt', '');
  return {
    env: { NODE_OPTIONS: `--import ${pathToFileURL(tracer).href}`, TRACE_MODULES_FILE: out },
    modules: () => readFileSync(out, 'utf8').split('\n').filter(Boolean),
    /** Node's internal modules, written when trans exits (waits up to `ms` for that). */
    async internal(ms) {
      const deadline = Date.now() + ms;
      while (!existsSync(`${out}.internal`)) {
        if (Date.now() > deadline) throw new Error(`trans wrote no ${out}.internal within ${ms} ms (did it exit?)`);
        await new Promise((r) => setTimeout(r, 100));
      }
      return readFileSync(`${out}.internal`, 'utf8').split('\n');
    },
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

/**
 * Module URLs of development-only or unconfigured packages: @grpc/reflection, trans's own @grpc/proto-loader, the
 * database drivers, OpenTelemetry beyond its API (the SDK, exporters, propagators), prom-client.
 */
const unwanted = (mods: string[]): string[] =>
  mods.filter(
    (u) =>
      /\/node_modules\/@grpc\/reflection\//.test(u) ||
      // trans's own proto-loader (for reflection); the etcd client (etcd3) and the health service (grpc-health-check)
      // load copies of their own, nested under their node_modules/: not those
      (/\/node_modules\/@grpc\/proto-loader\//.test(u) &&
        !/\/node_modules\/.+\/node_modules\/@grpc\/proto-loader\//.test(u)) ||
      /\/node_modules\/(mysql2|pg|pg-[a-z]+|prom-client)\//.test(u) ||
      /\/node_modules\/@opentelemetry\/(?!api\/)/.test(u),
  );

/** The packages (node_modules/<name>/) among `mods`, nested copies included. */
const packagesOf = (mods: string[]): Set<string> =>
  new Set(mods.flatMap((u) => [...u.matchAll(/\/node_modules\/((?:@[^/]+\/)?[^/]+)\//g)].map((m) => m[1] as string)));

/** A valid W3C traceparent, sampled: what a traced caller sends. */
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

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

test('npm run trans:prod runs trans from dist/ with no .ts file and no dev-only or unconfigured module loaded, and it serves', async () => {
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

  // A traced caller: trans (no Telemetry) passes the trace on, as go-zero: the W3C propagators load now, the SDK not.
  const md = new Metadata();
  md.set('traceparent', TRACEPARENT);
  const withTrace = await rawCall(port, 'TransOut', AdjustInfo.encode({ Amount: 31n, UserID: 1n }).finish(), md);
  expect(withTrace, proc.stderr()).toMatchObject({ code: 0 });
  const after = packagesOf(t.modules());
  expect(after.has('@opentelemetry/core')).toBe(true);
  expect([...after].filter((p) => /^@opentelemetry\/(sdk-|exporter-|resources)|^prom-client$/.test(p))).toEqual([]);

  // Node's bundled undici (fetch, WebSocket) is not loaded either: an ES module importing node:http would load it.
  process.kill(-(proc.child.pid as number), 'SIGTERM');
  const internal = await t.internal(30_000);
  expect(internal).toContain('NativeModule http2'); // the check can fail: the list is Node's, and grpc-js is in it
  expect(internal.filter((m) => /undici/.test(m))).toEqual([]);
}, 150_000);

test.each([
  ['Mysql', 'mysql2', 'pg'],
  ['Postgres', 'pg', 'mysql2'],
] as const)(
  'configured, each loads: Telemetry the SDK, the DevServer prom-client, a %s bank %s only',
  async (section, driver, other) => {
    const db = `prodstart_${randomUUID().slice(0, 8)}`;
    const { mysqlUrl, postgresUrl } = testDatabases();
    const dsn = section === 'Mysql' ? `${mysqlUrl}${db}` : postgresUrl.replace(/\/postgres$/, `/${db}`);
    const [port, dev] = [await freePort(), await freePort()];
    const spans = tempFile('spans.jsonl', '');
    const t = traced();
    const yaml = transYaml(
      port,
      `cfg-${randomUUID()}`,
      `Telemetry:\n  Name: trans-prodstart\n  Endpoint: ${spans}\n  Batcher: file\n` +
        `DevServer:\n  Enabled: true\n  Host: 127.0.0.1\n  Port: ${dev}\n${section}:\n  DataSource: ${dsn}\n`,
    );
    proc = runNode(TRANS, ['-f', yaml], join(root, 'apps/trans'), t.env);
    await proc.waitFor(/Starting rpc server at/, 60_000);
    const md = dtmMetadata('saga', `prodstart-${randomUUID()}`, '01', 'action');
    const r = await rawCall(port, 'TransOut', AdjustInfo.encode({ Amount: 30n, UserID: 1n }).finish(), md);
    expect(r, proc.stderr()).toMatchObject({ code: 0 });

    const pkgs = packagesOf(t.modules());
    for (const p of ['@opentelemetry/sdk-trace', '@opentelemetry/core', 'prom-client', driver])
      expect(pkgs).toContain(p);
    expect(pkgs).not.toContain(other);
    // The file batcher needs no network exporter: none of the three is loaded.
    expect([...pkgs].filter((p) => /^@opentelemetry\/exporter-/.test(p))).toEqual([]);

    // And they work: go-zero's metric for the call on the DevServer, its span in the file.
    const metrics = await (await fetch(`http://127.0.0.1:${dev}/metrics`)).text();
    expect(metrics).toMatch(/rpc_server_requests_code_total\{method="\/trans.TransSvc\/TransOut",code="0"\} 1/);
    const deadline = Date.now() + 15_000; // the batch processor exports every second
    while (!readFileSync(spans, 'utf8').includes('"Name":"trans.TransSvc/TransOut"') && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 200));
    }
    expect(readFileSync(spans, 'utf8')).toContain('"Name":"trans.TransSvc/TransOut"');
  },
  120_000,
);

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
