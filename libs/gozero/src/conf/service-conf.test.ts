// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these tests are about ${VAR} text in YAML
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { loadClientConf, loadServerConf } from './config.ts';
import { expandEnv, parseGoDuration, setConfigWarningSink } from './service-conf.ts';

const dir = mkdtempSync(join(tmpdir(), 'service-conf-test-'));
let n = 0;
function yaml(text: string): string {
  const f = join(dir, `c${n++}.yaml`);
  writeFileSync(f, text);
  return f;
}
const SERVER = 'Name: s\nListenOn: 127.0.0.1:1\n';
const CLIENT = 'Etcd:\n  Hosts: [127.0.0.1:2379]\n  Key: k\n';

let warnings: string[] = [];
beforeEach(() => {
  warnings = [];
  setConfigWarningSink((m) => warnings.push(m));
});
afterEach(() => setConfigWarningSink((m) => console.warn(m)));

describe("go-zero's ServiceConf / RpcServerConf keys", () => {
  test('a go-zero v1.10 server YAML with Log, Shutdown, CpuThreshold and Middlewares loads with their meaning', () => {
    const c = loadServerConf(
      yaml(
        `${SERVER}Mode: dev\nLog:\n  Encoding: plain\n  Level: error\n  MaxContentLength: 100\n  ServiceName: svc\n` +
          '  FieldKeys:\n    ContentKey: msg\nShutdown:\n  WrapUpTime: 2s\n  WaitTime: 1m30s\nCpuThreshold: 800\n' +
          'Middlewares:\n  Stat: false\n  Breaker: false\n  StatConf:\n    SlowThreshold: 250ms\n' +
          '    IgnoreContentMethods: [/a.B/C]\n',
      ),
    );
    expect(c.Log).toEqual({
      Mode: 'console',
      Encoding: 'plain',
      Level: 'error',
      MaxContentLength: 100,
      ServiceName: 'svc',
      Stat: true,
      FieldKeys: { ContentKey: 'msg' },
    });
    expect(c.Shutdown).toEqual({ WrapUpTime: 2000, WaitTime: 90_000 });
    expect(c.CpuThreshold).toBe(800);
    expect(c.Middlewares).toEqual({
      Trace: true,
      Recover: true,
      Stat: false,
      StatConf: { SlowThreshold: 250, IgnoreContentMethods: ['/a.B/C'] },
      Prometheus: true,
      Breaker: false,
    });
    expect(warnings).toEqual([]);
  });

  test.each([
    ['CpuThreshold: 1000', /CpuThreshold must be an integer in \[0, 1000\) millicpu, got 1000; use e\.g\. 900/],
    ['CpuThreshold: -1', /CpuThreshold must be an integer in \[0, 1000\)/],
    ['CpuThreshold: "90%"', /CpuThreshold must be an integer in \[0, 1000\) millicpu, got "90%"/],
    ['Log:\n  Encoding: xml', /Log\.Encoding "xml" is not one of json\|plain; use json/],
    ['Log:\n  Levle: info', /Log\.Levle is not a key of go-zero's logx\.LogConf; remove it \(did you mean Level\?\)/],
    ['Log:\n  Mode: syslog', /Log\.Mode "syslog" is not one of console\|file\|volume; use console/],
    ['Log:\n  Mode: file\n  Rotation: hourly', /Log\.Rotation "hourly" is not one of daily\|size; use daily/],
    ['Log:\n  Rotation: hourly', /Log\.Rotation "hourly" is not one of daily\|size; use daily/],
    ['Log:\n  Mode: file\n  MaxSize: 1.5', /Log\.MaxSize must be a non-negative integer \(MB\), got 1\.5/],
    ['Shutdown:\n  WaitTime: soon', /Shutdown\.WaitTime must be a Go duration such as 500ms, 1s or 1m30s, got "soon"/],
    ['Middlewares:\n  Stats: true', /Middlewares\.Stats is not a key of go-zero's zrpc\.ServerMiddlewaresConf/],
    ['Middlewares:\n  Breaker: yes please', /Middlewares\.Breaker must be true or false/],
    [
      'Auth: true',
      /Redis is missing; Auth: true checks app\/token against a Redis hash: add Redis\.Host and Redis\.Key/,
    ],
    ['Auth: true\nRedis:\n  Host: 127.0.0.1:6379', /Redis\.Key is missing; add it, e\.g\. "Key: rpc:auth"/],
    [
      'Auth: true\nRedis:\n  Host: redis\n  Key: k',
      /Redis\.Host "redis" is not host:port; write it like 127\.0\.0\.1:6379/,
    ],
    [
      'Auth: true\nRedis:\n  Host: r:1\n  Key: k\n  Type: cluster',
      /Redis\.Type is cluster, which Auth does not implement here/,
    ],
    [
      'Auth: true\nRedis:\n  Host: r:1\n  Key: k\n  Hots: x',
      /Redis\.Hots is not a key of go-zero's redis\.RedisKeyConf/,
    ],
  ])('%s is refused by name', (extra, message) => {
    expect(() => loadServerConf(yaml(SERVER + extra))).toThrow(message);
  });

  test('a key parsed but not acted on is a warning naming it, never silence', () => {
    loadServerConf(
      yaml(
        `${SERVER}MetricsUrl: http://x\nRedis:\n  Host: r:6379\n` +
          'Profiling:\n  Enabled: true\nLog:\n  Path: /var/log\n  TimeFormat: x\nMiddlewares:\n  Recover: false\n',
      ),
    );
    const named = (k: string) => warnings.some((w) => w.includes(` ${k} is set but not acted on`));
    for (const k of ['MetricsUrl', 'Redis', 'Profiling', 'Log.Path', 'Log.TimeFormat']) {
      expect(named(k), `${k} in ${warnings.join('\n')}`).toBe(true);
    }
    expect(warnings.some((w) => w.includes('Middlewares.Recover: false is not acted on'))).toBe(true);
  });
});

test('Auth with Redis and StrictControl, with go-zero defaults', () => {
  const c = loadServerConf(
    yaml(
      `${SERVER}Auth: true\nStrictControl: true\nRedis:\n  Host: 127.0.0.1:6379\n  Key: rpc:auth\n  Pass: pw\n  Protocol: 2\n`,
    ),
  );
  expect(c).toMatchObject({
    Auth: true,
    StrictControl: true,
    Redis: {
      Host: '127.0.0.1:6379',
      Key: 'rpc:auth',
      Pass: 'pw',
      Type: 'node',
      Tls: false,
      NonBlock: true,
      PingTimeout: 1000,
    },
  });
  expect(warnings).toEqual([
    expect.stringMatching(/Redis\.Protocol is set but not acted on \(go-redis connection details/),
  ]);
});

test("Log.Mode file/volume: Path and the rotation keys, with go-zero's defaults; keys of another rule warned about", () => {
  const c = loadServerConf(
    yaml(
      `${SERVER}Log:\n  Mode: volume\n  Path: /var/log/x\n  Rotation: size\n  KeepDays: 7\n  MaxBackups: 3\n  MaxSize: 100\n  Compress: true\n  Stat: false\n`,
    ),
  );
  expect(c.Log).toMatchObject({
    Mode: 'volume',
    Path: '/var/log/x',
    Rotation: 'size',
    KeepDays: 7,
    MaxBackups: 3,
    MaxSize: 100,
    Compress: true,
    Stat: false,
  });
  expect(warnings).toEqual([]);
  expect(loadServerConf(yaml(`${SERVER}Log:\n  Mode: file\n  MaxSize: 5\n`)).Log).toMatchObject({
    Path: 'logs',
    Rotation: 'daily',
    KeepDays: 0,
    Compress: false,
    Stat: true,
  });
  expect(warnings).toEqual([
    expect.stringMatching(/Log\.MaxSize is set but not acted on \(they only apply with Rotation: size/),
  ]);
});

describe("go-zero v1.10's MethodTimeouts", () => {
  test('a list of {FullMethod, Timeout} with Go durations, no warning', () => {
    const c = loadServerConf(
      yaml(
        `${SERVER}Timeout: 3000\nMethodTimeouts:\n  - FullMethod: /trans.TransSvc/TransOut\n    Timeout: 250ms\n` +
          '  - fullmethod: /trans.TransSvc/TransIn\n    timeout: 1m\n',
      ),
    );
    expect(c.Timeout).toBe(3000);
    expect(c.MethodTimeouts).toEqual([
      { FullMethod: '/trans.TransSvc/TransOut', Timeout: 250 },
      { FullMethod: '/trans.TransSvc/TransIn', Timeout: 60_000 },
    ]);
    expect(warnings).toEqual([]);
  });

  test('with Timeout: 0 (no timeout interceptor in go-zero) they are warned about by name', () => {
    const c = loadServerConf(yaml(`${SERVER}Timeout: 0\nMethodTimeouts: [{FullMethod: /a.B/C, Timeout: 1s}]\n`));
    expect(c.MethodTimeouts).toHaveLength(1);
    expect(warnings).toEqual([expect.stringMatching(/warning: MethodTimeouts is set but not acted on \(Timeout: 0/)]);
  });

  test.each([
    ['MethodTimeouts: /a.B/C', /MethodTimeouts must be a list of \{FullMethod, Timeout\}/],
    ['MethodTimeouts: [5]', /MethodTimeouts\[0\] must be a mapping \{FullMethod, Timeout\}/],
    ['MethodTimeouts: [{Timeout: 1s}]', /MethodTimeouts\[0\]\.FullMethod is missing/],
    [
      'MethodTimeouts: [{FullMethod: /a.B/C}]',
      /MethodTimeouts\[0\]\.Timeout is missing; add it, e\.g\. "Timeout: 500ms"/,
    ],
    [
      'MethodTimeouts: [{FullMethod: a.B/C, Timeout: 1s}]',
      /MethodTimeouts\[0\]\.FullMethod "a\.B\/C" is not a gRPC full method name/,
    ],
    ['MethodTimeouts: [{FullMethod: /a.B/C, Timeout: soon}]', /MethodTimeouts\[0\]\.Timeout must be a Go duration/],
    ['MethodTimeouts: [{FullMethod: /a.B/C, Timeout: 0}]', /MethodTimeouts\[0\]\.Timeout must be longer than 0/],
    [
      'MethodTimeouts: [{FullMethod: /a.B/C, Timeot: 1s}]',
      /MethodTimeouts\[0\]\.Timeot is not a key of go-zero's zrpc\.MethodTimeoutConf/,
    ],
    [
      'MethodTimeouts: [{FullMethod: /a.B/C, Timeout: 1s}, {FullMethod: /a.B/C, Timeout: 2s}]',
      /MethodTimeouts\[1\]\.FullMethod "\/a\.B\/C" is listed twice/,
    ],
  ])('%s is refused by name', (extra, message) => {
    expect(() => loadServerConf(yaml(`${SERVER}${extra}\n`))).toThrow(message);
  });
});

test('a top-level key go-zero does not have is named in a warning (whole-file loaders only)', () => {
  loadServerConf(yaml(`${SERVER}ListenOnn: 1\nmode: dev\n`));
  loadClientConf(yaml(`${CLIENT}Timout: 5\n`));
  expect(warnings).toEqual([
    expect.stringMatching(
      /: warning: ListenOnn is not a key of go-zero's zrpc\.RpcServerConf, so it is ignored; fix it/,
    ),
    expect.stringMatching(/: warning: Timout is not a key of go-zero's zrpc\.RpcClientConf, so it is ignored/),
  ]);
});

describe("go-zero v1.10's RpcClientConf keys", () => {
  test('defaults: p2c_ewma, every middleware on', () => {
    const c = loadClientConf(yaml(CLIENT));
    expect(c.BalancerName).toBe('p2c_ewma');
    expect(c.KeepaliveTime).toBeUndefined();
    expect(c.Middlewares).toEqual({ Trace: true, Duration: true, Prometheus: true, Breaker: true, Timeout: true });
  });

  test('BalancerName, KeepaliveTime, Middlewares and a v1.10 Target', () => {
    const c = loadClientConf(
      yaml(
        'Target: etcd:///127.0.0.1:2379?key=trans\nBalancerName: round_robin\nKeepaliveTime: 20s\n' +
          'Middlewares:\n  Breaker: false\n  Timeout: false\n',
      ),
    );
    expect(c).toMatchObject({
      Target: 'etcd:///127.0.0.1:2379?key=trans',
      BalancerName: 'round_robin',
      KeepaliveTime: 20_000,
      Middlewares: { Breaker: false, Timeout: false, Duration: true },
    });
  });

  test.each([
    ['BalancerName: consistent_hash', /BalancerName "consistent_hash" is not one of p2c_ewma\|round_robin/],
    ['KeepaliveTime: often', /KeepaliveTime must be a Go duration/],
    ['Middlewares:\n  Retry: true', /Middlewares\.Retry is not a key of go-zero's zrpc\.ClientMiddlewaresConf/],
  ])('%s is refused by name', (extra, message) => {
    expect(() => loadClientConf(yaml(`${CLIENT}${extra}\n`))).toThrow(message);
  });

  test('App and Token: both are kept; one without the other is warned about (go-zero sends both or none)', () => {
    expect(loadClientConf(yaml(`${CLIENT}App: a\nToken: t\n`))).toMatchObject({ App: 'a', Token: 't' });
    expect(warnings).toEqual([]);
    expect(loadClientConf(yaml(`${CLIENT}App: a\n`)).App).toBeUndefined();
    expect(warnings).toEqual([expect.stringMatching(/warning: App is set without Token, so no app\/token is sent/)]);
  });
});

describe('conf.UseEnv: ${VAR} substitution', () => {
  test('off by default, as go-zero; on with useEnv', () => {
    const f = yaml('Name: ${SVC_NAME}\nListenOn: 127.0.0.1:1\nEtcd:\n  Hosts: [127.0.0.1:$SVC_PORT]\n  Key: k\n');
    process.env.SVC_NAME = 'from-env';
    process.env.SVC_PORT = '5555';
    try {
      expect(loadServerConf(f, { useEnv: true })).toMatchObject({
        Name: 'from-env',
        Etcd: { Hosts: ['127.0.0.1:5555'] },
      });
      expect(() => loadServerConf(f)).toThrow(/Etcd\.Hosts has "127\.0\.0\.1:\$SVC_PORT"/);
    } finally {
      delete process.env.SVC_NAME;
      delete process.env.SVC_PORT;
    }
  });

  test('an unset variable becomes empty, as os.ExpandEnv, and is warned about by name', () => {
    expect(expandEnv('a: ${NOPE_X}', 'f.yaml', {})).toBe('a: ');
    expect(warnings).toEqual(['config f.yaml: warning: environment variable NOPE_X is not set; ${NOPE_X} is empty']);
    expect(() => expandEnv('a: ${1-2}', 'f.yaml', {})).toThrow(/\$\{1-2\} is not a variable name/);
  });
});

test('Go durations', () => {
  expect(parseGoDuration('500ms')).toBe(500);
  expect(parseGoDuration('1m30s')).toBe(90_000);
  expect(parseGoDuration('1.5s')).toBe(1500);
  expect(parseGoDuration(2_000_000_000)).toBe(2000);
  expect(parseGoDuration('0')).toBe(0);
  expect(parseGoDuration('5')).toBeUndefined();
  expect(parseGoDuration('-1s')).toBeUndefined();
});
