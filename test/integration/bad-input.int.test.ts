import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { join, relative } from 'node:path';
import { APP, freePort, type Proc, root, runCommand, runNode, TRANS, tempFile } from '@dtm-gozero/devkit';
import { appConfig, runApp, startTrans, testStack } from '@dtm-gozero/devkit/stack';
import { Etcd3 } from 'etcd3';
import { afterAll, describe, expect, test } from 'vitest';

// Every bad input ends within 10 s with a non-zero exit and a message naming the problem and the fix.
// "Up" means the etcd and dtm of the integration global setup (free ports); "down" means a closed free port.
const LIMIT_MS = 10_000;
const stack = testStack();
const etcdHost = stack.etcdEndpoints[0] as string;
const etcd = new Etcd3({ hosts: stack.etcdUrl });
afterAll(() => etcd.close());

/** The etcd password of every trans YAML below: it holds / : @ %, and no output may ever show it. */
const SECRET = 'e/tc:d@p%41ss';
const AUTH = `  User: root\n  Pass: ${SECRET}\n`;

async function fails(script: string, args: string[], message: RegExp): Promise<string> {
  const started = Date.now();
  // The app gets the test stack's dtm (--dtm, --dtm-http) unless a test passes its own --dtm.
  const p = script === APP ? runApp(args) : runNode(script, args, join(root, 'apps/trans'));
  // A process still running past the limit is a failure; it must not outlive the test either.
  const code = await p.exited(LIMIT_MS).finally(() => p.kill('SIGKILL'));
  expect(Date.now() - started).toBeLessThan(LIMIT_MS);
  expect(code).not.toBe(0);
  expect(p.stderr()).toMatch(message);
  expect(p.stdout() + p.stderr()).not.toContain(SECRET);
  return p.stderr();
}

const transYaml = (body: string): string => tempFile('trans.yaml', body);
const uniqueKey = (): string => `trans-bad-${randomUUID().slice(0, 8)}`;

describe('trans', () => {
  test('missing YAML file', async () => {
    await fails(
      TRANS,
      ['-f', '/nonexistent/trans.yaml'],
      /config \/nonexistent\/trans\.yaml: cannot read it \(file not found\); pass an existing file with -f/,
    );
  });

  test('YAML without ListenOn', async () => {
    await fails(TRANS, ['-f', transYaml('Name: trans.rpc\n')], /ListenOn is missing; add it/);
  });

  test('YAML without Etcd.Hosts', async () => {
    await fails(
      TRANS,
      ['-f', transYaml(`Name: t\nListenOn: 127.0.0.1:1\nEtcd:\n  Key: trans\n${AUTH}`)],
      /Etcd\.Hosts is missing or empty/,
    );
  });

  test('Etcd.Hosts written as a single string, not a list', async () => {
    await fails(
      TRANS,
      ['-f', transYaml(`Name: t\nListenOn: 127.0.0.1:1\nEtcd:\n  Hosts: ${etcdHost}\n  Key: trans\n${AUTH}`)],
      new RegExp(
        `Etcd\\.Hosts must be a list of "host:port" strings, got the single value "${etcdHost}"; write it as a YAML list, e\\.g\\. "Hosts: \\[${etcdHost}\\]"`,
      ),
    );
  });

  test('YAML without Etcd.Key', async () => {
    await fails(
      TRANS,
      ['-f', transYaml(`Name: t\nListenOn: 127.0.0.1:1\nEtcd:\n  Hosts: [${etcdHost}]\n${AUTH}`)],
      /Etcd\.Key is missing/,
    );
  });

  test('ListenOn port already in use: nothing is registered', async () => {
    const blocker: Server = createServer();
    const port = await freePort();
    await new Promise<void>((r) => blocker.listen(port, '127.0.0.1', r));
    const key = uniqueKey();
    try {
      const stderr = await fails(
        TRANS,
        [
          '-f',
          transYaml(`Name: t\nListenOn: 127.0.0.1:${port}\nEtcd:\n  Hosts: [${etcdHost}]\n  Key: ${key}\n${AUTH}`),
        ],
        new RegExp(
          `ListenOn 127\\.0\\.0\\.1:${port}: the port is already in use; stop the other process or choose another ListenOn`,
        ),
      );
      // Our one line only: nothing of grpc-js's own logging ("E No address added out of total 1 resolved") first.
      expect(stderr.trim().split('\n')).toEqual([expect.stringMatching(/^trans: ListenOn .* already in use/)]);
    } finally {
      blocker.close();
    }
    expect(await etcd.getAll().prefix(`${key}/`).keys()).toEqual([]);
  });

  test('etcd down', async () => {
    const dead = await freePort();
    const port = await freePort();
    await fails(
      TRANS,
      [
        '-f',
        transYaml(`Name: t\nListenOn: 127.0.0.1:${port}\nEtcd:\n  Hosts: [127.0.0.1:${dead}]\n  Key: trans\n${AUTH}`),
      ],
      new RegExp(`etcd at 127\\.0\\.0\\.1:${dead} is unreachable.*start etcd or fix Etcd\\.Hosts.*npm run stack:up`),
    );
  });
});

describe('app', () => {
  test('missing YAML file', async () => {
    await fails(APP, ['-f', '/nonexistent/config.yaml'], /cannot read it \(file not found\)/);
  });

  test('etcd down', async () => {
    const dead = await freePort();
    await fails(
      APP,
      [
        '-f',
        tempFile('config.yaml', `Etcd:\n  Hosts:\n    - 127.0.0.1:${dead}\n  Key: trans\n${AUTH}`),
        '--dtm',
        `etcd://127.0.0.1:${dead}/dtmservice`,
      ],
      new RegExp(`dtm not found: .*etcd at 127\\.0\\.0\\.1:${dead} is unreachable`),
    );
  });

  test('dtm not registered', async () => {
    await fails(
      APP,
      ['-f', appConfig('trans'), '--dtm', `etcd://${etcdHost}/no-dtm-here`],
      /dtm not found: .*nothing is registered in etcd under "no-dtm-here\/"/,
    );
  });

  test('dtm down (direct address)', async () => {
    const key = uniqueKey();
    // trans "registered" so that only dtm is missing.
    const lease = etcd.lease(10);
    await lease.put(`${key}/1`).value('127.0.0.1:1');
    try {
      const dead = await freePort();
      await fails(
        APP,
        ['-f', appConfig(key), '--dtm', `127.0.0.1:${dead}`],
        /dtm NewGid via 127\.0\.0\.1:\d+ failed \(is dtm running.*ECONNREFUSED 127\.0\.0\.1:\d+\n$/,
      );
    } finally {
      await lease.revoke();
    }
  });

  test('trans not registered', async () => {
    const key = uniqueKey();
    await fails(
      APP,
      ['-f', appConfig(key)],
      new RegExp(
        `trans not found: .*nothing is registered in etcd under "${key}/"; start trans with \`npm run trans\``,
      ),
    );
  });

  test('malformed dtm target', async () => {
    // (go-zero v1.10's etcd:///host?key=k is a valid target since issue 20; with no host it is not)
    await fails(
      APP,
      ['-f', appConfig('trans'), '--dtm', 'etcd:///?key=dtmservice'],
      /has no etcd hosts; write etcd:\/\/127\.0\.0\.1:2379\/<key>/,
    );
  });

  test('malformed trans target in the config', async () => {
    await fails(
      APP,
      ['-f', tempFile('config.yaml', 'Target: "etcd://nohostport/trans"\n')],
      /etcd host "nohostport" is not host:port/,
    );
  });
});

describe('app, as typed at the repository root', () => {
  /** `npm run app -- <args>` from `cwd`, as a user types it. */
  const npmApp = (args: string[], cwd = root): Proc =>
    runCommand('npm', ['run', '--silent', 'app', '--', ...args], cwd);

  test('-f takes a relative path from where the command is typed', async () => {
    const key = uniqueKey();
    const rel = relative(root, appConfig(key));
    expect(rel).not.toMatch(/^\//);
    const app = npmApp(['-f', rel, '--dtm', stack.dtmTarget, '--dtm-http', stack.dtmHttp]);
    expect(await app.exited(LIMIT_MS)).toBe(1);
    // It read that file: trans is looked up under the key written there.
    expect(app.stderr()).toMatch(new RegExp(`trans not found: .*nothing is registered in etcd under "${key}/"`));
  });

  test('a missing -f file: the message shows the absolute path it tried', async () => {
    const app = npmApp(['-f', 'apps/app/etc/nope.yaml']);
    expect(await app.exited(LIMIT_MS)).toBe(1);
    expect(app.stderr()).toContain(
      `config ${join(root, 'apps/app/etc/nope.yaml')}: cannot read it (file not found); pass an existing file with -f`,
    );
  });

  test('--help says how -f is resolved, and exits 0', async () => {
    const app = npmApp(['--help']);
    expect(await app.exited(LIMIT_MS)).toBe(0);
    expect(app.stdout()).toMatch(/-f <file> .*a relative path is taken from the directory you run the command in/s);
  });

  test('--dtm-http that does not answer: the status printed is dtm’s gRPC answer, and the exit code follows it', async () => {
    const key = uniqueKey();
    const { proc: trans } = await startTrans(key);
    try {
      const dead = await freePort();
      const app = runApp(['-f', appConfig(key), 'tcc', '--dtm-http', `http://127.0.0.1:${dead}`]);
      // The TCC went through (WaitResult: Submit answered OK after the confirms), so not "failed", not exit 1.
      expect(await app.exited(LIMIT_MS)).toBe(0);
      expect(app.stdout()).toMatch(/^tcc \S+ succeed$/m);
      expect(app.stderr()).toMatch(
        new RegExp(
          `dtm's HTTP API at http://127\\.0\\.0\\.1:${dead} does not answer \\(ECONNREFUSED\\).*pass --dtm-http <url>.*printing succeed, dtm's answer`,
        ),
      );
      // a cluster's list: the dead instance is skipped, the live one answers for the gid
      const listed = runApp(['-f', appConfig(key), 'tcc', '--dtm-http', `http://127.0.0.1:${dead},${stack.dtmHttp}`]);
      expect(await listed.exited(LIMIT_MS)).toBe(0);
      expect(listed.stdout()).toMatch(/^tcc \S+ succeed$/m);
    } finally {
      trans.kill('SIGTERM');
      await trans.exited(6000).catch(() => undefined);
    }
  });
});

test('app: the etcd account in its config goes to those hosts only, never to other hosts --dtm names', async () => {
  // The same etcd (no auth) under another name is, to go-zero's account registry, another cluster: no account.
  const port = etcdHost.split(':')[1] as string;
  const config = tempFile('config.yaml', `Etcd:\n  Hosts:\n    - ${etcdHost}\n  Key: trans\n${AUTH}`);
  const stderr = await fails(
    APP,
    ['-f', config, '--dtm', `etcd://localhost:${port}/no-dtm-${randomUUID().slice(0, 6)}`],
    /dtm not found: .*nothing is registered in etcd under "no-dtm-/,
  );
  expect(stderr).not.toMatch(/authentication|rejected the account/);
});
