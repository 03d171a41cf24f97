import { describe, expect, test } from 'vitest';
import { buildTarget, buildTargetV110, parseServerMethod, parseTarget } from './target.ts';

describe('buildTarget, as go-zero v1.4', () => {
  test('the example config gives the form dtm’s go-zero driver parses', () => {
    expect(buildTarget({ Etcd: { Hosts: ['127.0.0.1:2379'], Key: 'trans' }, NonBlock: false, Timeout: 2000 })).toBe(
      'etcd://127.0.0.1:2379/trans',
    );
  });

  test('several hosts are comma-joined in the authority', () => {
    expect(buildTarget({ Etcd: { Hosts: ['a:1', 'b:2'], Key: 'k' }, NonBlock: false, Timeout: 0 })).toBe(
      'etcd://a:1,b:2/k',
    );
  });

  test('Endpoints win, then Target', () => {
    expect(buildTarget({ Endpoints: ['a:1', 'b:2'], Target: 'x:1', NonBlock: false, Timeout: 0 })).toBe(
      'direct:///a:1,b:2',
    );
    expect(buildTarget({ Target: 'dns:///x:1', NonBlock: false, Timeout: 0 })).toBe('dns:///x:1');
  });

  test('errors', () => {
    expect(() => buildTarget({ NonBlock: false, Timeout: 0 })).toThrow(/empty etcd hosts/);
    expect(() => buildTarget({ Etcd: { Hosts: ['a:1'], Key: '' }, NonBlock: false, Timeout: 0 })).toThrow(
      /empty etcd key/,
    );
    expect(() => buildTarget({ Etcd: { Hosts: ['a:1'], Key: 'a/b' }, NonBlock: false, Timeout: 0 })).toThrow(
      /contains "\/"/,
    );
  });
});

describe('parseTarget', () => {
  test('etcd and discov', () => {
    expect(parseTarget('etcd://127.0.0.1:2379/trans')).toEqual({
      scheme: 'etcd',
      hosts: ['127.0.0.1:2379'],
      key: 'trans',
    });
    expect(parseTarget('discov://h1:1,h2:2/svc')).toEqual({ scheme: 'discov', hosts: ['h1:1', 'h2:2'], key: 'svc' });
  });

  test('direct and plain', () => {
    expect(parseTarget('direct:///127.0.0.1:1,127.0.0.1:2')).toEqual({
      scheme: 'direct',
      endpoints: ['127.0.0.1:1', '127.0.0.1:2'],
    });
    expect(parseTarget('localhost:36790')).toEqual({ scheme: 'plain', endpoint: 'localhost:36790' });
  });

  test.each([
    ['etcd:///?key=trans', /no etcd hosts/],
    ['etcd:///127.0.0.1:2379', /no etcd key; write etcd:\/\/\/host:port\?key=<key>/],
    ['etcd:///127.0.0.1:2379?key=', /no etcd key/],
    ['etcd:///127.0.0.1?key=trans', /etcd host "127\.0\.0\.1" is not host:port/],
    ['etcd://127.0.0.1:2379/', /no etcd key/],
    ['etcd://127.0.0.1/trans', /etcd host "127\.0\.0\.1" is not host:port/],
    ['direct:///', /lists no endpoints/],
    ['consul://x:1/svc', /unsupported scheme "consul"/],
    ['localhost', /address "localhost" is not host:port/],
    ['etcd:/x', /is malformed/],
  ])('%s is refused', (target, message) => {
    expect(() => parseTarget(target)).toThrow(message);
  });
});

describe('go-zero v1.10.2+ targets (`etcd:///h1,h2?key=k`)', () => {
  test('parsed like go-zero v1.10’s resolver: hosts from the path, the key unescaped from the query', () => {
    expect(parseTarget('etcd:///127.0.0.1:2379?key=trans')).toEqual({
      scheme: 'etcd',
      hosts: ['127.0.0.1:2379'],
      key: 'trans',
    });
    expect(parseTarget('discov:///h1:1,h2:2?key=a%2Fb+c')).toEqual({
      scheme: 'discov',
      hosts: ['h1:1', 'h2:2'],
      key: 'a/b c',
    });
  });

  test('buildTargetV110 escapes the key as Go’s url.QueryEscape (what BuildTarget yields)', () => {
    expect(buildTargetV110(['h1:1', 'h2:2'], 'trans')).toBe('etcd:///h1:1,h2:2?key=trans');
    expect(buildTargetV110(['h:1'], "a/b c*~!'")).toBe('etcd:///h:1?key=a%2Fb+c%2A~%21%27');
    const t = parseTarget(buildTargetV110(['h:1'], 'x y/z'));
    expect(t).toEqual({ scheme: 'etcd', hosts: ['h:1'], key: 'x y/z' });
  });

  test('a v1.10 Target in a client config comes out of buildTarget in v1.4’s form, the one branch URLs need', () => {
    expect(buildTarget({ Target: 'etcd:///a:1,b:2?key=trans', NonBlock: true, Timeout: 0 })).toBe(
      'etcd://a:1,b:2/trans',
    );
    expect(buildTarget({ Target: 'discov:///a:1?key=trans', NonBlock: true, Timeout: 0 })).toBe('discov://a:1/trans');
    expect(() => buildTarget({ Target: 'etcd:///a:1?key=x%2Fy', NonBlock: true, Timeout: 0 })).toThrow(/contains "\/"/);
  });
});

describe('parseServerMethod splits branch URLs like dtm’s go-zero driver', () => {
  test.each([
    ['localhost:50081/trans.TransSvc/TransOut', 'localhost:50081', '/trans.TransSvc/TransOut'],
    ['etcd://localhost:2379/trans/trans.TransSvc/TransOut', 'etcd://localhost:2379/trans', '/trans.TransSvc/TransOut'],
    [
      'etcd://h1:2379,h2:2379/trans/trans.TransSvc/TransOut',
      'etcd://h1:2379,h2:2379/trans',
      '/trans.TransSvc/TransOut',
    ],
    [
      'discov://localhost:2379/trans/trans.TransSvc/TransOut',
      'discov://localhost:2379/trans',
      '/trans.TransSvc/TransOut',
    ],
    ['direct:///127.0.0.1:50081/trans.TransSvc/TransOut', 'direct:///127.0.0.1:50081', '/trans.TransSvc/TransOut'],
  ])('%s', (url, server, method) => {
    expect(parseServerMethod(url)).toEqual({ server, method });
  });

  test.each([
    ['localhost:50081', /has no method path/],
    ['etcd://localhost:2379/trans', /method "" is not \/<proto package>/],
    ['etcd://localhost:2379/trans/TransOut', /method "\/TransOut" is not/],
    ['etcd://localhost:2379/a/b/trans.TransSvc/TransOut', /method "\/b\/trans\.TransSvc\/TransOut" is not/],
    ['etcd:///127.0.0.1:2379?key=trans/trans.TransSvc/TransOut', /v1\.10's etcd:\/\/\/host\?key= form.*cannot split/],
  ])('%s is refused', (url, message) => {
    expect(() => parseServerMethod(url)).toThrow(message);
  });
});
