// The example end to end on an etcd that requires a password: dtm (v1.19.0, go-zero driver) registers itself and
// resolves trans's etcd:// branch URLs with the account its Target's query gives it; trans and the app use
// Etcd.User/Etcd.Pass. See docs/etcd-security.md.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { APP, freePort, root, runNode, TRANS, tempFile } from '@dtm-gozero/devkit';
import { type DtmStack, startDtmStack } from '@dtm-gozero/testkit';
import { afterAll, beforeAll, expect, test } from 'vitest';

const password = `pw-${randomUUID().slice(0, 8)}`;
let stack: DtmStack;
beforeAll(async () => {
  stack = await startDtmStack({ backend: 'local', etcdAuth: { user: 'root', password } });
}, 60_000);
afterAll(() => stack?.stop());

test('dtm with ?user=&password= in its Target, trans and the app with Etcd.User/Pass: both transactions succeed', {
  timeout: 60_000,
}, async () => {
  expect(stack.dtmConfig).toMatch(/Target: etcd:\/\/127\.0\.0\.1:\d+\/dtmservice\?user=root&password=/);
  const key = `trans-auth-${randomUUID().slice(0, 8)}`;
  const etcd = `Etcd:\n  Hosts: [${stack.etcdEndpoints[0]}]\n  Key: ${key}\n  User: root\n  Pass: ${password}\n`;
  const trans = runNode(
    TRANS,
    ['-f', tempFile('trans.yaml', `Name: trans.rpc\nListenOn: 127.0.0.1:${await freePort()}\n${etcd}`)],
    join(root, 'apps/trans'),
  );
  try {
    await trans.waitFor(/Starting rpc server at/, 20_000);
    const app = runNode(
      APP,
      ['-f', tempFile('config.yaml', etcd), '--dtm', stack.dtmTarget, '--dtm-http', stack.dtmHttp],
      join(root, 'apps/app'),
    );
    expect(await app.exited(40_000), app.stderr()).toBe(0);
    expect(app.stdout()).toMatch(/^msg \w+ succeed\ntcc \w+ succeed\n$/);
    // dtm called trans's branches through etcd: the transcript's lines are in trans's log.
    expect(trans.stderr()).toMatch(/transfer out 30 cents from 1[\s\S]*transfer in 30 cents to 2/);
  } finally {
    trans.kill('SIGTERM');
    await trans.exited(15_000).catch(() => undefined);
  }
});
