import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { loadClientConf, loadServerConf, parseListenOn } from './config.ts';

const root = join(import.meta.dirname, '..', '..', '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'conf-test-'));
let n = 0;
function yaml(text: string): string {
  const f = join(dir, `c${n++}.yaml`);
  writeFileSync(f, text);
  return f;
}

describe('the Go example YAML files load unchanged', () => {
  test('etc/trans.yaml as RpcServerConf', () => {
    expect(loadServerConf(join(root, 'apps/trans/etc/trans.yaml'))).toEqual({
      Name: 'trans.rpc',
      ListenOn: '127.0.0.1:50081',
      Mode: 'pro',
      Timeout: 2000,
      Health: true,
      Etcd: { Hosts: ['127.0.0.1:2379'], Key: 'trans', InsecureSkipVerify: false },
      // go-zero's defaults for the keys the file leaves out
      Shutdown: { WrapUpTime: 1000, WaitTime: 5500 },
      CpuThreshold: 900,
      Middlewares: {
        Trace: true,
        Recover: true,
        Stat: true,
        StatConf: { SlowThreshold: 500, IgnoreContentMethods: [] },
        Prometheus: true,
        Breaker: true,
      },
    });
  });

  test('etc/config.yaml as RpcClientConf', () => {
    expect(loadClientConf(join(root, 'apps/app/etc/config.yaml'))).toEqual({
      NonBlock: false,
      Timeout: 2000,
      Etcd: { Hosts: ['127.0.0.1:2379'], Key: 'trans', InsecureSkipVerify: false },
      BalancerName: 'p2c_ewma',
      Middlewares: { Trace: true, Duration: true, Prometheus: true, Breaker: true, Timeout: true },
    });
  });

  test('keys match case-insensitively, as go-zero matches them', () => {
    const c = loadServerConf(yaml('name: x\nlistenon: 0.0.0.0:1\netcd:\n  hosts: [a:1]\n  key: k\n'));
    expect(c.Name).toBe('x');
    expect(c.ListenOn).toBe('0.0.0.0:1');
    expect(c.Etcd).toMatchObject({ Hosts: ['a:1'], Key: 'k' });
  });
});

describe('bad config gets an error naming the file, the field and the fix', () => {
  test('missing file', () => {
    const f = join(dir, 'nope.yaml');
    expect(() => loadServerConf(f)).toThrow(
      `config ${f}: cannot read it (file not found); pass an existing file with -f`,
    );
  });

  test('invalid YAML', () => {
    expect(() => loadServerConf(yaml('Name: [unclosed\n'))).toThrow(/not valid YAML/);
  });

  test('an unknown tag is refused, not a warning on stderr and a value the user did not mean', () => {
    expect(() => loadServerConf(yaml('Name: !foo trans\n'))).toThrow(/not valid YAML \(Unresolved tag: !foo/);
  });

  test('not a mapping', () => {
    expect(() => loadServerConf(yaml('- a\n- b\n'))).toThrow(/expected a mapping/);
  });

  test('missing ListenOn', () => {
    expect(() => loadServerConf(yaml('Name: trans.rpc\n'))).toThrow(
      /ListenOn is missing; add it, e\.g\. "ListenOn: 127\.0\.0\.1:50081"/,
    );
  });

  test('missing Name', () => {
    expect(() => loadServerConf(yaml('ListenOn: 127.0.0.1:1\n'))).toThrow(/Name is missing/);
  });

  test('malformed ListenOn', () => {
    expect(() => loadServerConf(yaml('Name: a\nListenOn: localhost\n'))).toThrow(
      /ListenOn "localhost" is not host:port/,
    );
    expect(() => loadServerConf(yaml('Name: a\nListenOn: 1.2.3.4:70000\n'))).toThrow(/is not host:port/);
  });

  test('missing Etcd.Hosts', () => {
    expect(() => loadServerConf(yaml('Name: a\nListenOn: :1\nEtcd:\n  Key: trans\n'))).toThrow(
      /Etcd\.Hosts is missing or empty; list the etcd endpoints/,
    );
  });

  test('Etcd.Hosts entry that is not host:port', () => {
    expect(() => loadServerConf(yaml('Name: a\nListenOn: :1\nEtcd:\n  Hosts: [http://x:1]\n  Key: k\n'))).toThrow(
      /Etcd\.Hosts has "http:\/\/x:1", which is not host:port/,
    );
  });

  test('missing Etcd.Key', () => {
    expect(() => loadServerConf(yaml('Name: a\nListenOn: :1\nEtcd:\n  Hosts: [127.0.0.1:2379]\n'))).toThrow(
      /Etcd\.Key is missing; add it, e\.g\. "Key: trans"/,
    );
  });

  test('client config with neither Etcd nor Endpoints nor Target', () => {
    expect(() => loadClientConf(yaml('Timeout: 1000\n'))).toThrow(/Etcd is missing; add Etcd\.Hosts and Etcd\.Key/);
  });

  test('Etcd.User without Etcd.Pass, and a partial TLS setting, name the missing setting', () => {
    const base = 'Name: a\nListenOn: :1\nEtcd:\n  Hosts: [127.0.0.1:2379]\n  Key: k\n';
    expect(() => loadServerConf(yaml(`${base}  User: root\n`))).toThrow(
      /Etcd\.Pass is missing; etcd authentication needs both/,
    );
    expect(() => loadServerConf(yaml(`${base}  CertFile: c.pem\n`))).toThrow(
      /Etcd\.CertKeyFile is missing; etcd TLS needs CertFile, CertKeyFile and CACertFile/,
    );
    expect(loadServerConf(yaml(`${base}  ID: 7\nHealth: false\n`))).toMatchObject({ Health: false, Etcd: { ID: 7 } });
    expect(() => loadServerConf(yaml(`${base}  ID: x\n`))).toThrow(
      /Etcd\.ID must be a non-negative integer \(an integer id\)/,
    );
  });

  test('wrong types', () => {
    expect(() => loadClientConf(yaml('Timeout: soon\nTarget: a:1\n'))).toThrow(
      /Timeout must be a non-negative integer/,
    );
    expect(() => loadServerConf(yaml('Name: a\nListenOn: :1\nMode: fast\n'))).toThrow(/Mode "fast" is not one of/);
  });
});

test('parseListenOn', () => {
  expect(parseListenOn('127.0.0.1:50081')).toEqual({ host: '127.0.0.1', port: 50081 });
  expect(parseListenOn(':8080')).toEqual({ host: '', port: 8080 });
  expect(parseListenOn('[::1]:9')).toEqual({ host: '::1', port: 9 });
  expect(() => parseListenOn('50081')).toThrow(/not host:port/);
});
