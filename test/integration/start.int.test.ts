import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, freePort, root, runCommand, runNode, tempFile } from '@dtm-gozero/devkit';
import { afterAll, expect, test } from 'vitest';

// `npm start` as a user runs it, with its stack on free ports in a folder of its own (the env stack.sh reads) and
// trans on a free port (`npm start -- -f <yaml>`): trans's own lines are not buried in server logs, and Ctrl-C,
// sent to the whole foreground process group as a terminal does, stops trans first (it deregisters), then the
// etcd and dtm it started.
const dir = mkdtempSync(join(tmpdir(), 'npm-start-test-'));
const STACK = join(root, 'scripts/stack.sh');
afterAll(() => {
  spawnSync('bash', [STACK, 'down'], { env, stdio: 'ignore', timeout: 30_000 });
  rmSync(dir, { recursive: true, force: true });
});
let env: NodeJS.ProcessEnv = {};

test('npm start: the transcript as trans prints it; Ctrl-C stops trans (deregistered), then etcd and dtm', async () => {
  const [etcd, http, grpc, peer, transPort] = await Promise.all([1, 2, 3, 4, 5].map(() => freePort()));
  const conf = readFileSync(join(root, 'infra/dtm/config.yml'), 'utf8')
    .replaceAll('etcd://localhost:2379/', `etcd://localhost:${etcd}/`)
    .replace('EndPoint: localhost:36790', `EndPoint: localhost:${grpc}`)
    .replace('HttpPort: 36789', `HttpPort: ${http}`)
    .replace('GrpcPort: 36790', `GrpcPort: ${grpc}`);
  writeFileSync(join(dir, 'dtm.yml'), conf);
  env = {
    ...process.env,
    STACK_DIR: join(dir, 'stack'),
    DTM_CONF: join(dir, 'dtm.yml'),
    STACK_ETCD_PORT: String(etcd),
    STACK_ETCD_PEER_PORT: String(peer),
  };
  const key = 'trans-npm-start';
  const hosts = `  Hosts:\n    - 127.0.0.1:${etcd}\n  Key: ${key}\n`;
  const transYaml = tempFile('trans.yaml', `Name: trans.rpc\nListenOn: 127.0.0.1:${transPort}\nEtcd:\n${hosts}`);

  const start = runCommand('npm', ['start', '--', '-f', transYaml], root, env, 'npm start', { group: true });
  try {
    await start.waitFor(/Starting rpc server at/, 60_000);
    const etcdctl = (...args: string[]): string =>
      execFileSync('etcdctl', [`--endpoints=127.0.0.1:${etcd}`, ...args], {
        env: { ...process.env, ETCDCTL_API: '3' },
        encoding: 'utf8',
        timeout: 10_000,
      });
    expect(etcdctl('get', '--prefix', `${key}/`, '--print-value-only').trim()).toBe(`127.0.0.1:${transPort}`);

    const app = runNode(
      join(root, 'apps/app/src/main.ts'),
      [
        '-f',
        tempFile('config.yaml', `Etcd:\n${hosts}`),
        '--dtm',
        `etcd://localhost:${etcd}/dtmservice`,
        '--dtm-http',
        `http://127.0.0.1:${http}`,
      ],
      root,
    );
    expect(await app.exited(30_000), app.stderr()).toBe(0);
    await start.waitFor(/(transfer .*\n[\s\S]*){4}/, 5000);

    // The output is trans's own (banner, four lines, and go-zero's per-request stat lines, as the Go trans prints
    // them) and npm start's notes: none of etcd's or dtm's JSON logs.
    const out = start.stdout() + start.stderr();
    const statLine = /^\{"@timestamp":.*"caller":"serverinterceptors\/statinterceptor\.go"/;
    expect(
      out
        .split('\n')
        .filter((l) => !statLine.test(l))
        .join('\n'),
    ).not.toMatch(/"level"/);
    const stamp = /^\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2} /;
    expect(
      out
        .split('\n')
        .filter((l) => stamp.test(l))
        .map((l) => l.replace(stamp, '')),
    ).toEqual([
      'transfer out 30 cents from 1',
      'transfer in 30 cents to 2',
      'transfer out 30 cents from 1',
      'transfer out 30 cents from 1',
    ]);

    // Ctrl-C: SIGINT to the whole foreground process group, as a terminal sends it.
    // (npm itself may end on the signal at once; scripts/start.ts finishes its cleanup regardless.)
    process.kill(-(start.child.pid as number), 'SIGINT');
    await start.exited(20_000);
    // etcd and dtm are stopped, within stack.sh's bounds…
    const down = (url: string): Promise<true> =>
      eventually(
        async () => (spawnSync('curl', ['-fsS', '-m', '1', url]).status !== 0 ? true : undefined),
        20_000,
        `${url} stopped`,
      );
    await down(`http://127.0.0.1:${http}/api/ping`);
    await down(`http://127.0.0.1:${etcd}/health`);
    expect(start.stdout() + start.stderr()).not.toMatch(/deregistering failed/);
    expect(readFileSync(join(dir, 'stack/dtm.log'), 'utf8')).toMatch(/Shutdown dtm server/);
    // …and trans revoked its lease while etcd still ran: with etcd back up, its key is not there.
    expect(spawnSync('bash', [STACK, 'up'], { env, timeout: 60_000 }).status).toBe(0);
    expect(etcdctl('get', '--prefix', `${key}/`)).toBe('');
  } finally {
    start.kill('SIGKILL');
  }
}, 120_000);
