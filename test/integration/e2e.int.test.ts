import { randomUUID } from 'node:crypto';
import { eventually, type Proc, tempFile } from '@dtm-gozero/devkit';
import { dtmQuery, dtmStatus } from '@dtm-gozero/devkit/dtm';
import { appConfig, runApp, startTrans, testStack } from '@dtm-gozero/devkit/stack';
import { Etcd3 } from 'etcd3';
import { afterAll, expect, test } from 'vitest';

// Against the etcd and dtm of the integration global setup (free ports, not the fixed-port stack).
const stack = testStack();
const etcd = new Etcd3({ hosts: stack.etcdUrl });
let trans: Proc | undefined;

afterAll(() => {
  trans?.kill('SIGKILL');
  etcd.close();
});

const STAMP = String.raw`\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2} `;

test('the go-zero example transcript, against real etcd and dtm', async () => {
  // A unique key keeps this run apart from a trans a developer may have running on the default key.
  const key = `trans-e2e-${randomUUID().slice(0, 8)}`;
  const t = await startTrans(key);
  trans = t.proc;

  // Registered the go-zero v1.4 way: <Key>/<lease id in decimal> -> ListenOn.
  const kvs = await etcd.getAll().prefix(`${key}/`).strings();
  expect(Object.keys(kvs)).toHaveLength(1);
  const [regKey, regValue] = Object.entries(kvs)[0] as [string, string];
  expect(regKey).toMatch(new RegExp(`^${key}/\\d+$`));
  expect(regValue).toBe(`127.0.0.1:${t.port}`);

  const app = runApp(['-f', appConfig(key)]);
  expect(await app.exited(20_000)).toBe(0);
  const out = app.stdout().trim().split('\n');
  expect(out).toHaveLength(2);
  const [msgLine, tccLine] = out as [string, string];
  expect(msgLine).toMatch(/^msg \S{10,} succeed$/);
  expect(tccLine).toMatch(/^tcc \S{10,} succeed$/);

  // The four lines, in this order, each after Go's log.Printf timestamp, on stderr.
  const lines = t.proc.stderr().trimEnd().split('\n');
  expect(lines).toHaveLength(4);
  const expected = [
    'transfer out 30 cents from 1',
    'transfer in 30 cents to 2',
    'transfer out 30 cents from 1',
    'transfer out 30 cents from 1',
  ];
  for (const [i, line] of lines.entries()) expect(line).toMatch(new RegExp(`^${STAMP}${expected[i]}$`));
  // stdout: the banner, then go-zero's per-request stat line of each call (logx JSON, Middlewares.Stat on by
  // default), as the Go trans prints them.
  const [banner, ...stat] = t.proc.stdout().trimEnd().split('\n');
  expect(banner).toBe(`Starting rpc server at 127.0.0.1:${t.port}...`);
  const methods = ['TransOut', 'TransIn', 'TransOut', 'TransOut'];
  expect(stat.map((l) => JSON.parse(l))).toEqual(
    methods.map((m) => ({
      '@timestamp': expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(Z|[+-]\d\d:\d\d)$/),
      caller: 'serverinterceptors/statinterceptor.go',
      content: expect.stringMatching(
        new RegExp(`^127\\.0\\.0\\.1:\\d+ - /trans\\.TransSvc/${m} - \\{"Amount":30,"UserID":\\d\\}$`),
      ),
      duration: expect.stringMatching(/^\d+\.\dms$/),
      level: 'info',
    })),
  );

  // dtm itself reports both global transactions as succeeded.
  for (const line of out) {
    const gid = line.split(' ')[1] as string;
    expect(await dtmStatus(gid)).toBe('succeed');
  }

  // SIGTERM revokes the lease: the key is gone at once, and trans exits 0.
  const stoppedAt = Date.now();
  t.proc.kill('SIGTERM');
  await eventually(
    async () => ((await etcd.getAll().prefix(`${key}/`).keys()).length === 0 ? true : undefined),
    1000,
    'trans key removed from etcd',
  );
  expect(Date.now() - stoppedAt).toBeLessThan(1000);
  expect(await t.proc.exited(6000)).toBe(0);
});

test('direct connection: Endpoints instead of Etcd, dtm dialled at its gRPC address', async () => {
  const key = `trans-direct-${randomUUID().slice(0, 8)}`;
  const t = await startTrans(key);
  trans = t.proc;
  const config = tempFile('config.yaml', `Endpoints:\n  - 127.0.0.1:${t.port}\n`);
  const app = runApp(['-f', config, '--dtm', stack.dtmGrpc]);
  expect(await app.exited(20_000)).toBe(0);
  expect(app.stdout()).toMatch(/^msg \S+ succeed\ntcc \S+ succeed\n$/);
  // dtm stored direct:/// branch URLs and its go-zero driver dialled them without etcd.
  const gid = app.stdout().split(' ')[1] as string;
  const body = await dtmQuery(gid);
  expect(body.branches.map((b) => b.url)).toContain(`direct:///127.0.0.1:${t.port}/trans.TransSvc/TransOut`);
  expect(t.proc.stderr().trimEnd().split('\n')).toHaveLength(4);
  t.proc.kill('SIGTERM');
  expect(await t.proc.exited(6000)).toBe(0);
});
