import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, root, runNode, TRANS, tempFile } from '@dtm-gozero/devkit';
import { afterAll, afterEach, describe, expect, test } from 'vitest';

// scripts/stack.sh (`npm run stack:up` / `stack:down`) as a user runs it, on free ports in a folder of its own:
// STACK_DIR, STACK_ETCD_PORT/STACK_ETCD_PEER_PORT, and a copy of infra/dtm/config.yml (DTM_CONF) with other ports.
const STACK = join(root, 'scripts/stack.sh');
const dirs: string[] = [];
let env: NodeJS.ProcessEnv = {};

interface Ports {
  etcd: number;
  http: number;
  grpc: number;
}

/** A stack of its own: the project's dtm config with free ports and `edit` applied. */
async function ownStack(edit: (conf: string) => string = (c) => c): Promise<Ports> {
  const dir = mkdtempSync(join(tmpdir(), 'stack-sh-test-'));
  dirs.push(dir);
  const ports = { etcd: await freePort(), http: await freePort(), grpc: await freePort() };
  const conf = readFileSync(join(root, 'infra/dtm/config.yml'), 'utf8')
    .replaceAll('etcd://localhost:2379/', `etcd://localhost:${ports.etcd}/`)
    .replace(/EndPoint: localhost:36790/, `EndPoint: localhost:${ports.grpc}`)
    .replace(/HttpPort: 36789/, `HttpPort: ${ports.http}`)
    .replace(/GrpcPort: 36790/, `GrpcPort: ${ports.grpc}`);
  writeFileSync(join(dir, 'dtm.yml'), edit(conf));
  env = {
    ...process.env,
    STACK_DIR: join(dir, 'stack'),
    DTM_CONF: join(dir, 'dtm.yml'),
    STACK_ETCD_PORT: String(ports.etcd),
    STACK_ETCD_PEER_PORT: String(await freePort()),
  };
  return ports;
}

function stack(cmd: 'up' | 'down'): { status: number | null; out: string } {
  const r = spawnSync('bash', [STACK, cmd], { env, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

const etcdctl = (etcdPort: number, ...args: string[]): string =>
  execFileSync('etcdctl', [`--endpoints=127.0.0.1:${etcdPort}`, ...args], {
    env: { ...process.env, ETCDCTL_API: '3' },
    encoding: 'utf8',
    timeout: 10_000,
  });

/** dtmservice/ keys and their values. */
function registrations(etcdPort: number): [string, string][] {
  const lines = etcdctl(etcdPort, 'get', '--prefix', 'dtmservice/').split('\n').filter(Boolean);
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < lines.length; i += 2) pairs.push([lines[i] as string, lines[i + 1] as string]);
  return pairs;
}

/** Leaves keys behind as a dtm that died without revoking would: `n` leased keys holding dtm's EndPoint. */
function plantStale(p: Ports, n: number): void {
  for (let i = 0; i < n; i++) {
    const lease = /lease ([0-9a-f]+) granted/.exec(etcdctl(p.etcd, 'lease', 'grant', '600'))?.[1] as string;
    etcdctl(p.etcd, 'put', '--lease', lease, `dtmservice/${BigInt(`0x${lease}`)}`, `localhost:${p.grpc}`);
  }
}

const pidOf = (name: string): number => Number(readFileSync(join(env.STACK_DIR as string, `${name}.pid`), 'utf8'));

afterEach(() => {
  stack('down');
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('npm run stack:up / stack:down', () => {
  test('with old dtmservice/ keys left behind, 20 restarts in a row each come up with exactly one registration', async () => {
    const p = await ownStack();
    // A dtm that died without revoking (kill -9), plus old keys: etcd keeps them across its own restarts.
    const first = stack('up');
    expect(first.status, first.out).toBe(0);
    process.kill(pidOf('dtm'), 'SIGKILL');
    plantStale(p, 6);
    expect(stack('down').status).toBe(0);
    for (let i = 0; i < 20; i++) {
      const up = stack('up');
      expect(up.status, `restart ${i}: ${up.out}`).toBe(0);
      expect(registrations(p.etcd), `restart ${i}`).toEqual([
        [expect.stringMatching(/^dtmservice\/\d+$/), `localhost:${p.grpc}`],
      ]);
      if (i % 5 === 4) {
        // now and then a crash again, leaving keys for the next up
        process.kill(pidOf('dtm'), 'SIGKILL');
        plantStale(p, 3);
      }
      expect(stack('down').status, `restart ${i}`).toBe(0);
    }
  }, 240_000);

  test('a stale key does not pass for a dtm that did not register; the failed up stops the dtm it started', async () => {
    const p = await ownStack();
    expect(stack('up').status).toBe(0);
    process.kill(pidOf('dtm'), 'SIGKILL'); // its key stays behind
    plantStale(p, 2);
    // The same ports, but dtm with its `default` driver: it runs and registers nothing, though Target names the etcd.
    const conf = env.DTM_CONF as string;
    writeFileSync(conf, readFileSync(conf, 'utf8').replace('Driver: dtm-driver-gozero', 'Driver: default'));
    const up = stack('up');
    expect(up.status, up.out).toBe(1);
    expect(up.out).toMatch(
      new RegExp(
        `dtm answers but has not registered localhost:${p.grpc} under dtmservice/ in the etcd at localhost:${p.etcd}`,
      ),
    );
    expect(up.out).toMatch(/dtm: stopped/);
    expect(spawnSync('curl', ['-fsS', '-m', '2', `http://127.0.0.1:${p.http}/api/ping`]).status).not.toBe(0);
  }, 60_000);

  test('a frozen dtm (SIGSTOP) is reported as gone from etcd, not as never registered', async () => {
    const p = await ownStack();
    expect(stack('up').status).toBe(0);
    // trans "registered", so that only dtm is in question.
    etcdctl(p.etcd, 'put', 'trans-frozen/1', '127.0.0.1:1');
    const dtm = pidOf('dtm');
    process.kill(dtm, 'SIGSTOP');
    try {
      const app = runNode(
        join(root, 'apps/app/src/main.ts'),
        [
          '-f',
          tempFile('config.yaml', `Etcd:\n  Hosts:\n    - 127.0.0.1:${p.etcd}\n  Key: trans-frozen\n`),
          '--dtm',
          `etcd://localhost:${p.etcd}/dtmservice`,
          '--dtm-http',
          `http://127.0.0.1:${p.http}`,
        ],
        root,
      );
      expect(await app.exited(20_000)).toBe(1);
      expect(app.stderr()).toMatch(
        new RegExp(
          `the instance registered in etcd under "dtmservice/" \\(localhost:${p.grpc}\\) is gone: its lease expired`,
        ),
      );
      expect(app.stderr()).not.toMatch(/no instance is registered/);
    } finally {
      process.kill(dtm, 'SIGCONT');
    }
  }, 60_000);

  test('direct mode: MicroService.Target "" comes up without waiting for a registration; trans without Etcd serves unregistered', async () => {
    const p = await ownStack((c) => c.replace(/Target: .*/, 'Target: ""'));
    const started = Date.now();
    const up = stack('up');
    expect(up.status, up.out).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(up.out).toMatch(/not registered, dial it directly/);
    expect(registrations(p.etcd)).toEqual([]);
    // The direct recipe of docs/walkthrough.md: trans with no Etcd section, the app with Endpoints and --dtm host:port.
    const port = await freePort();
    const trans = runNode(
      TRANS,
      ['-f', tempFile('trans.yaml', `Name: trans.rpc\nListenOn: 127.0.0.1:${port}\n`)],
      root,
    );
    try {
      await trans.waitFor(/Starting rpc server at/, 15_000);
      const app = runNode(
        join(root, 'apps/app/src/main.ts'),
        [
          '-f',
          tempFile('config.yaml', `Endpoints:\n  - 127.0.0.1:${port}\n`),
          '--dtm',
          `localhost:${p.grpc}`,
          '--dtm-http',
          `http://127.0.0.1:${p.http}`,
        ],
        root,
      );
      expect(await app.exited(30_000), app.stderr()).toBe(0);
      expect(app.stdout()).toMatch(/^msg \S+ succeed\ntcc \S+ succeed\n$/);
    } finally {
      trans.kill('SIGTERM');
      await trans.exited(6000).catch(() => undefined);
    }
    expect(
      trans
        .stderr()
        .split('\n')
        .filter((l) => l.includes('transfer')),
    ).toHaveLength(4);
  }, 60_000);
});
