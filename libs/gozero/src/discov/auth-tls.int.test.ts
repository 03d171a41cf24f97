// etcd with authentication and with TLS (client certificates made at test time by testkit's etcd-certs.sh):
// registration and resolution work, and each wrong setting is one clear error naming it, within seconds.
import { randomUUID } from 'node:crypto';
import { freePort } from '@dtm-gozero/devkit';
import { callOnce, instance } from '@dtm-gozero/devkit/gozero';
import { type EtcdServer, startEtcd } from '@dtm-gozero/testkit';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { EtcdConf } from '../conf/config.ts';
import { newRpcClient } from '../zrpc/client.ts';
import { resolveTarget } from '../zrpc/resolve.ts';
import { closeEtcdClients } from './clients.ts';
import { Publisher } from './publisher.ts';

afterAll(() => closeEtcdClients());

const key = (): string => `sec-${randomUUID().slice(0, 8)}`;
/** The same etcd spelled `localhost:<port>`: a cluster of its own for go-zero's per-hosts account/TLS registry. */
const asLocalhost = (e: EtcdServer): string[] => e.endpoints.map((h) => h.replace('127.0.0.1', 'localhost'));

async function registerAndCall(conf: EtcdConf): Promise<void> {
  const s = instance('a', await freePort(), conf);
  await s.start();
  try {
    expect(s.registeredKey).toMatch(new RegExp(`^${conf.Key}/\\d+$`));
    const client = await newRpcClient({ Etcd: conf, NonBlock: false, Timeout: 2000 });
    try {
      expect(await callOnce(client)).toBe('a');
    } finally {
      client.close();
    }
  } finally {
    await s.stop(0);
  }
}

async function failsWithin(p: Promise<unknown>, ms: number): Promise<string> {
  const start = Date.now();
  const err = await p.then(
    () => undefined,
    (e: Error) => e,
  );
  expect(err, 'should have failed').toBeInstanceOf(Error);
  expect(Date.now() - start).toBeLessThan(ms);
  return (err as Error).message;
}

describe('etcd with authentication', () => {
  const password = `pw-${randomUUID().slice(0, 8)}`;
  let etcd: EtcdServer;
  beforeAll(async () => {
    etcd = await startEtcd({ auth: { user: 'root', password } });
  }, 30_000);
  afterAll(() => etcd?.stop());

  test('Etcd.User/Pass: registration and resolution work', { timeout: 20_000 }, async () => {
    await registerAndCall(etcd.conf(key()) as EtcdConf);
  });

  test('no account: one error saying etcd needs Etcd.User and Etcd.Pass', async () => {
    const conf = { Hosts: asLocalhost(etcd), Key: key() };
    const msg = await failsWithin(new Publisher(conf, 'x:1').keepAlive(), 10_000);
    expect(msg).toMatch(/etcd at localhost:\d+ requires authentication .*; set Etcd\.User and Etcd\.Pass/);
    const res = await failsWithin(resolveTarget(`etcd://${conf.Hosts[0]}/${conf.Key}`), 10_000);
    expect(res).toMatch(/requires authentication/);
  });

  test('a wrong password: one error naming Etcd.User / Etcd.Pass, without the password', async () => {
    const wrong = 'not-the-password-42';
    const conf = { Hosts: asLocalhost(etcd), Key: key(), User: 'root', Pass: wrong };
    const msg = await failsWithin(new Publisher(conf, 'x:1').keepAlive(), 10_000);
    expect(msg).toMatch(
      /etcd at localhost:\d+ rejected the account \(authentication failed\); fix Etcd\.User \/ Etcd\.Pass/,
    );
    expect(msg).not.toContain(wrong);
  });
});

describe('etcd with TLS and client certificates', () => {
  let etcd: EtcdServer;
  beforeAll(async () => {
    etcd = await startEtcd({ tls: true });
  }, 30_000);
  afterAll(() => etcd?.stop());

  // Settings are registered per host list (go-zero's registry): the wrong ones go to `localhost:<port>`,
  // the right ones to `127.0.0.1:<port>`; the plaintext case runs before any TLS is registered for localhost.
  test('plaintext against a TLS etcd: an error that hints at the TLS settings', async () => {
    const msg = await failsWithin(new Publisher({ Hosts: asLocalhost(etcd), Key: key() }, 'x:1').keepAlive(), 10_000);
    expect(msg).toMatch(
      /etcd at localhost:\d+ is unreachable or refused the request .*set Etcd\.CertFile, Etcd\.CertKeyFile and Etcd\.CACertFile/,
    );
  });

  test('CertFile, CertKeyFile, CACertFile: registration and resolution work', { timeout: 20_000 }, async () => {
    await registerAndCall(etcd.conf(key()) as EtcdConf);
  });

  test('a CA that did not sign etcd: one error naming the TLS settings; InsecureSkipVerify accepts it', async () => {
    const tls = etcd.tls as NonNullable<EtcdServer['tls']>;
    const conf = { ...etcd.conf(key()), Hosts: asLocalhost(etcd), CACertFile: tls.otherCACertFile };
    const msg = await failsWithin(new Publisher(conf, 'x:1').keepAlive(), 10_000);
    expect(msg).toMatch(
      /TLS with etcd at localhost:\d+ failed \(.+\); check Etcd\.CACertFile, Etcd\.CertFile and Etcd\.CertKeyFile/,
    );

    // go-zero's InsecureSkipVerify: the server certificate is not checked (etcd still checks ours).
    const p = new Publisher({ ...conf, InsecureSkipVerify: true }, 'x:1');
    expect(await p.keepAlive()).toMatch(new RegExp(`^${conf.Key}/\\d+$`));
    await p.stop();
  });

  test('a missing certificate file: a config error naming the setting', () => {
    const conf = { ...etcd.conf(key()), CertFile: '/nonexistent/client.pem' };
    expect(() => new Publisher(conf, 'x:1')).toThrow(
      /Etcd\.CertFile \/nonexistent\/client\.pem: cannot read it \(ENOENT\); point it at an existing PEM file/,
    );
  });
});
