import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { eventually, type Proc, root } from '@dtm-gozero/devkit';
import { startTrans, testStack } from '@dtm-gozero/devkit/stack';
import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, expect, test } from 'vitest';

// A real Go go-zero v1.4.4 client (interop/go-client) resolves our TypeScript trans through etcd and calls it.
const GO_CLIENT = join(root, '.cache/bin/go-trans-client');
const STAMP = String.raw`\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2} `;

// trans registers in the global setup's etcd (free port), where the Go client looks it up.
const stack = testStack();
const etcdHost = stack.etcdEndpoints[0] as string;
const etcd = new Etcd3({ hosts: stack.etcdUrl });
let trans: Proc | undefined;

beforeAll(() => {
  // Never skipped: no Go or a failed build fails this file with the build's output.
  const started = Date.now();
  const r = spawnSync('bash', [join(root, 'interop/go-client/build.sh')], {
    cwd: root,
    encoding: 'utf8',
    timeout: 600_000,
  });
  if (r.status !== 0)
    throw new Error(
      `interop/go-client/build.sh failed (status ${r.status}, signal ${r.signal}, ${r.error ?? 'no spawn error'}):\n${r.stdout}\n${r.stderr}`,
    );
  process.stdout.write(`go-interop: ${r.stdout.trim()} (${Date.now() - started} ms)\n`);
}, 660_000);

afterAll(() => {
  trans?.kill('SIGKILL');
  etcd.close();
});

interface GoRun {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs the Go client; kills it (code null) if it is still running after `ms`. */
function runGo(args: string[], ms = 15_000): Promise<GoRun> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(GO_CLIENT, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

function expectOk(r: GoRun): void {
  expect(r, `go client: ${r.stderr}`).toMatchObject({ code: 0, stdout: 'ok\n', stderr: '' });
}

test('a Go go-zero client calls the TypeScript trans through etcd discovery', async () => {
  const key = `trans-go-${randomUUID().slice(0, 8)}`;
  const t = await startTrans(key);
  trans = t.proc;
  const regs = await etcd.getAll().prefix(`${key}/`).strings();
  expect(Object.values(regs)).toEqual([`127.0.0.1:${t.port}`]);
  expect(t.proc.stderr()).toBe('');

  // zrpc.RpcClientConf{Etcd: {Hosts, Key}} → etcd://<host>/<key>, as the Go example's app builds it.
  const etcdArgs = ['-etcd', etcdHost, '-key', key];
  expectOk(await runGo([...etcdArgs, '-amount', '30', '-user', '1', '-method', 'TransOut']));
  expectOk(await runGo([...etcdArgs, '-amount', '30', '-user', '2', '-method', 'TransIn']));
  // The same through an explicit v1.4 target string.
  const target = `etcd://${etcdHost}/${key}`;
  expectOk(await runGo(['-target', target, '-amount', '30', '-user', '1', '-method', 'TransOut']));

  await t.proc.waitFor(/transfer out 30 cents from 1\n(.|\n)*transfer out 30 cents from 1\n/, 2000);
  const lines = t.proc.stderr().trimEnd().split('\n');
  const expected = ['transfer out 30 cents from 1', 'transfer in 30 cents to 2', 'transfer out 30 cents from 1'];
  expect(lines).toHaveLength(expected.length);
  for (const [i, line] of lines.entries()) expect(line).toMatch(new RegExp(`^${STAMP}${expected[i]}$`));

  // An unknown method is rejected by our server (gRPC Unimplemented), not swallowed.
  const bad = await runGo([...etcdArgs, '-method', 'Nope']);
  expect(bad.code).toBe(1);
  expect(bad.stderr).toMatch(/\/trans\.TransSvc\/Nope: .*Unimplemented/);

  // SIGTERM revokes the lease; a fresh Go client then finds nothing and fails fast (go-zero's 3 s blocking dial).
  t.proc.kill('SIGTERM');
  expect(await t.proc.exited(6000)).toBe(0);
  await eventually(
    async () => ((await etcd.getAll().prefix(`${key}/`).keys()).length === 0 ? true : undefined),
    1000,
    'trans key removed from etcd',
  );
  for (const args of [etcdArgs, ['-target', target]]) {
    const gone = await runGo([...args, '-method', 'TransOut']);
    expect(gone.code, `go client after SIGTERM: ${gone.stdout}${gone.stderr}`).toBe(1);
    expect(gone.stdout).toBe('');
    expect(gone.stderr).toContain(`rpc dial: ${target}, error: context deadline exceeded`);
    expect(gone.ms).toBeLessThan(6000);
  }
}, 60_000);
