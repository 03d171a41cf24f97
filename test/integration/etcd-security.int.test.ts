// The apps against an etcd that requires a password or TLS (an etcd of this file's own, testkit's startEtcd):
// trans registers and the app resolves it with the YAML's settings; a wrong one is one line naming the setting,
// a non-zero exit within 10 s, and never the password.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { APP, freePort, type Proc, root, runNode, TRANS, tempFile } from '@dtm-gozero/devkit';
import { type EtcdServer, startEtcd } from '@dtm-gozero/testkit';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

const LIMIT_MS = 10_000;
const key = (): string => `sec-${randomUUID().slice(0, 8)}`;

function etcdYaml(fields: Record<string, string | undefined>): string {
  const lines = Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `  ${k}: ${v}\n`);
  return `Etcd:\n${lines.join('')}`;
}
const transConf = async (etcd: string): Promise<string> =>
  tempFile('trans.yaml', `Name: trans.rpc\nListenOn: 127.0.0.1:${await freePort()}\n${etcd}`);
const runTrans = (config: string): Proc => runNode(TRANS, ['-f', config], join(root, 'apps/trans'));
// `--dtm` direct to a closed port: these cases end before dtm is needed (or at the trans lookup).
const runApp = (config: string): Proc => runNode(APP, ['-f', config, '--dtm', '127.0.0.1:9'], join(root, 'apps/app'));

async function fails(p: Proc, message: RegExp): Promise<string> {
  const started = Date.now();
  const code = await p.exited(LIMIT_MS);
  expect(Date.now() - started).toBeLessThan(LIMIT_MS);
  expect(code).not.toBe(0);
  expect(p.stderr()).toMatch(message);
  return p.stderr();
}

describe('etcd with a password', () => {
  const password = `pw-${randomUUID().slice(0, 8)}`;
  let etcd: EtcdServer;
  beforeAll(async () => {
    etcd = await startEtcd({ auth: { user: 'root', password } });
  }, 30_000);
  afterAll(() => etcd?.stop());

  test('trans registers with Etcd.User/Pass; the app finds it with the same settings', {
    timeout: 30_000,
  }, async () => {
    const k = key();
    const yaml = etcdYaml({ Hosts: `[${etcd.endpoints[0]}]`, Key: k, User: 'root', Pass: password });
    const trans = runTrans(await transConf(yaml));
    try {
      await trans.waitFor(/Starting rpc server at/, 15_000);
      expect(await etcd.etcdctl('get', '--prefix', `${k}/`, '--keys-only')).toMatch(new RegExp(`${k}/\\d+`));
      // The app gets as far as dtm (a closed port): trans was found through the authenticated etcd.
      const err = await fails(runApp(tempFile('config.yaml', yaml)), /^app: dtm /m);
      expect(err).not.toMatch(/trans not found/);
    } finally {
      trans.kill('SIGTERM');
      await trans.exited(LIMIT_MS).catch(() => undefined);
    }
  });

  test('a wrong password: trans and the app say so, naming the settings, without the password', async () => {
    const wrong = 'definitely-wrong-pw';
    const yaml = etcdYaml({ Hosts: `[${etcd.endpoints[0]}]`, Key: key(), User: 'root', Pass: wrong });
    const msg = /rejected the account \(authentication failed\); fix Etcd\.User \/ Etcd\.Pass/;
    expect(await fails(runTrans(await transConf(yaml)), msg)).not.toContain(wrong);
    expect(await fails(runApp(tempFile('config.yaml', yaml)), msg)).not.toContain(wrong);
  });

  test('no account: "requires authentication; set Etcd.User and Etcd.Pass"', async () => {
    const yaml = etcdYaml({ Hosts: `[${etcd.endpoints[0]}]`, Key: key() });
    await fails(runTrans(await transConf(yaml)), /requires authentication .*; set Etcd\.User and Etcd\.Pass/);
  });
});

describe('etcd with TLS', () => {
  let etcd: EtcdServer;
  beforeAll(async () => {
    etcd = await startEtcd({ tls: true });
  }, 30_000);
  afterAll(() => etcd?.stop());

  const tlsYaml = (k: string, ca?: string, cert?: string): string => {
    const t = etcd.tls as NonNullable<EtcdServer['tls']>;
    return etcdYaml({
      Hosts: `[${etcd.endpoints[0]}]`,
      Key: k,
      CertFile: cert ?? t.CertFile,
      CertKeyFile: t.CertKeyFile,
      CACertFile: ca ?? t.CACertFile,
    });
  };

  test('trans registers over TLS; the app finds it', { timeout: 30_000 }, async () => {
    const k = key();
    const trans = runTrans(await transConf(tlsYaml(k)));
    try {
      await trans.waitFor(/Starting rpc server at/, 15_000);
      const err = await fails(runApp(tempFile('config.yaml', tlsYaml(k))), /^app: dtm /m);
      expect(err).not.toMatch(/trans not found/);
    } finally {
      trans.kill('SIGTERM');
      await trans.exited(LIMIT_MS).catch(() => undefined);
    }
  });

  test('a CA that did not sign etcd: one error naming the TLS settings', async () => {
    const t = etcd.tls as NonNullable<EtcdServer['tls']>;
    await fails(
      runTrans(await transConf(tlsYaml(key(), t.otherCACertFile))),
      /TLS with etcd at 127\.0\.0\.1:\d+ failed .*; check Etcd\.CACertFile, Etcd\.CertFile and Etcd\.CertKeyFile/,
    );
  });

  test('a missing certificate file: trans and the app name the setting', async () => {
    const yaml = tlsYaml(key(), undefined, '/nonexistent/client.pem');
    const msg =
      /Etcd\.CertFile \/nonexistent\/client\.pem: cannot read it \(ENOENT\); point it at an existing PEM file/;
    await fails(runTrans(await transConf(yaml)), msg);
    await fails(runApp(tempFile('config.yaml', yaml)), msg);
  });

  test('a partial TLS setting: the config error names the missing file setting', async () => {
    const yaml = etcdYaml({ Hosts: `[${etcd.endpoints[0]}]`, Key: key(), CertFile: '/x/client.pem' });
    await fails(
      runTrans(await transConf(yaml)),
      /Etcd\.CertKeyFile is missing; etcd TLS needs CertFile, CertKeyFile and CACertFile/,
    );
  });
});
