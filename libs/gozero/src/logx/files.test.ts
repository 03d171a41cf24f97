// logx's file and volume modes: go-zero's five files under Log.Path with the right lines (also from a real
// RpcServer loaded from YAML), size rotation with gzip and MaxBackups, KeepDays pruning by name, a bad Path.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { freePort, tempFile } from '@dtm-gozero/devkit';
import { callOnce } from '@dtm-gozero/devkit/gozero';
import { TransSvcService } from '@dtm-gozero/proto/trans';
import { afterAll, afterEach, expect, test } from 'vitest';
import { loadServerConf } from '../conf/config.ts';
import { newRpcClient } from '../zrpc/client.ts';
import { RpcServer } from '../zrpc/server.ts';
import { backupName, type LogFilesConf, outdatedBackups, rfc3339 } from './files.ts';
import { closeLogx, logx, setupLogx } from './logx.ts';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'logx-files-test-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const lines = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, string>);
const turn = () => new Promise((r) => setImmediate(r));

afterEach(async () => {
  await closeLogx();
  setupLogx();
});

test("Mode file: each level in go-zero's file, as logx JSON; nothing on the console", async () => {
  const dir = tmp();
  setupLogx({ Mode: 'file', Path: dir, Level: 'debug' });
  const out = process.stdout.write;
  const err = process.stderr.write;
  const console: string[] = [];
  process.stdout.write = process.stderr.write = ((c: string) => console.push(String(c)) > 0) as typeof out;
  try {
    logx.debug('d1');
    logx.info('i1');
    logx.error('e1');
    logx.severe('s1');
    logx.slow('sl1');
    logx.stat('st1');
    await turn();
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
  await closeLogx();
  expect(console).toEqual([]);
  expect(readdirSync(dir).sort()).toEqual(['access.log', 'error.log', 'severe.log', 'slow.log', 'stat.log']);
  expect(lines(join(dir, 'access.log')).map((l) => [l.level, l.content])).toEqual([
    ['debug', 'd1'],
    ['info', 'i1'],
  ]);
  expect(lines(join(dir, 'error.log')).map((l) => [l.level, l.content])).toEqual([['error', 'e1']]);
  expect(lines(join(dir, 'severe.log')).map((l) => [l.level, l.content])).toEqual([['severe', 's1']]);
  expect(lines(join(dir, 'slow.log')).map((l) => [l.level, l.content])).toEqual([['slow', 'sl1']]);
  expect(lines(join(dir, 'stat.log')).map((l) => [l.level, l.content])).toEqual([['stat', 'st1']]);
  expect(Object.keys(lines(join(dir, 'stat.log'))[0] ?? {})).toEqual(['@timestamp', 'content', 'level']);
});

test('a server loaded from YAML with Log.Mode volume writes its request lines to <Path>/<Name>/<hostname>/access.log', {
  timeout: 20_000,
}, async () => {
  const dir = tmp();
  const port = await freePort();
  const conf = loadServerConf(
    tempFile(
      'vol.yaml',
      `Name: volsvc\nListenOn: 127.0.0.1:${port}\nMode: dev\nLog:\n  Mode: volume\n  Path: ${dir}\n`,
    ),
  );
  const ok = (_c: unknown, cb: (e: null, v: object) => void) => cb(null, {});
  const s = new RpcServer(conf, (srv) => srv.addService(TransSvcService, { transIn: ok, transOut: ok }));
  await s.start();
  const c = await newRpcClient({ Endpoints: [`127.0.0.1:${port}`], NonBlock: false, Timeout: 2000 });
  try {
    await callOnce(c);
  } finally {
    c.close();
    await s.stop(0);
  }
  await closeLogx();
  const access = lines(join(dir, 'volsvc', hostname(), 'access.log'));
  expect(access).toContainEqual(
    expect.objectContaining({
      level: 'info',
      caller: 'serverinterceptors/statinterceptor.go',
      content: expect.stringMatching(/^127\.0\.0\.1:\d+ - \/trans\.TransSvc\/TransOut - \{"Amount":1,"UserID":1\}$/),
    }),
  );
});

test('Rotation size: past MaxSize the file becomes access-<RFC 3339>.log.gz, and only MaxBackups backups stay', {
  timeout: 30_000,
}, async () => {
  const dir = tmp();
  setupLogx({ Mode: 'file', Path: dir, Rotation: 'size', MaxSize: 1, MaxBackups: 2, Compress: true });
  const big = 'x'.repeat(1024 * 1024 + 10); // one line past 1 MB: each write rotates
  for (let i = 0; i < 4; i++) {
    logx.info(`${i}${big}`);
    await turn();
    // the rotation (rename + gzip) runs between writes
    for (let t = 0; t < 100 && readdirSync(dir).filter((n) => n.endsWith('.gz')).length < Math.min(i + 1, 2); t++)
      await new Promise((r) => setTimeout(r, 50));
  }
  await new Promise((r) => setTimeout(r, 500));
  await closeLogx();
  const backups = readdirSync(dir).filter((n) => n.startsWith('access-'));
  expect(backups).toHaveLength(2);
  for (const b of backups) {
    expect(b).toMatch(/^access-\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)(\.\d+)?\.log\.gz$/);
    const text = gunzipSync(readFileSync(join(dir, b))).toString();
    expect(JSON.parse(text.split('\n')[0] as string).content).toMatch(/^[0-3]x{100}/);
  }
});

test("backup names as go-zero's rotate rules make them", () => {
  const t = new Date(2026, 11, 6, 4, 5, 6);
  const c: LogFilesConf = {
    Mode: 'file',
    Path: 'x',
    Rotation: 'daily',
    KeepDays: 0,
    MaxBackups: 0,
    MaxSize: 0,
    Compress: false,
  };
  expect(backupName(c, 'access.log', t, 1)).toBe('access.log-2026-12-06');
  expect(backupName({ ...c, Compress: true }, 'stat.log', t, 1)).toBe('stat.log-2026-12-06.gz');
  expect(backupName({ ...c, Rotation: 'size' }, 'error.log', t, 1)).toBe(`error-${rfc3339(t)}.log`);
  expect(rfc3339(t)).toMatch(/^2026-12-06T04:05:06(Z|[+-]\d\d:\d\d)$/);
  // a name already taken (two rotations within a second): rotating-file-stream asks again with index 2
  expect(backupName({ ...c, Rotation: 'size' }, 'error.log', t, 2)).toBe(`error-${rfc3339(t)}.2.log`);
});

test("KeepDays and MaxBackups pick the backups to remove by name, as go-zero's OutdatedFiles", () => {
  const now = new Date(2026, 11, 6, 12, 0, 0);
  const daily: LogFilesConf = {
    Mode: 'file',
    Path: 'x',
    Rotation: 'daily',
    KeepDays: 2,
    MaxBackups: 1,
    MaxSize: 0,
    Compress: false,
  };
  const names = [
    'access.log',
    'access.log-2026-12-01',
    'access.log-2026-12-04',
    'access.log-2026-12-05',
    'error.log-2026-12-01',
  ];
  // daily: MaxBackups does not apply (go-zero), only KeepDays: before 2026-12-04
  expect(outdatedBackups(daily, 'access.log', names, now)).toEqual(['access.log-2026-12-01']);
  expect(outdatedBackups({ ...daily, Compress: true }, 'access.log', ['access.log-2026-12-01.gz'], now)).toEqual([
    'access.log-2026-12-01.gz',
  ]);
  const size: LogFilesConf = { ...daily, Rotation: 'size', KeepDays: 0, MaxBackups: 2 };
  const stamps = [1, 2, 3].map((d) => `access-${rfc3339(new Date(2026, 11, d, 10, 0, 0))}.log`);
  expect(outdatedBackups(size, 'access.log', ['access.log', ...stamps], now)).toEqual([stamps[0]]);
  expect(outdatedBackups({ ...size, MaxBackups: 0, KeepDays: 5 }, 'access.log', stamps, now)).toEqual([stamps[0]]);
});

test('a Log.Path that cannot hold files is an error naming it, and logging stays as it was', () => {
  const file = join(tmp(), 'plain-file');
  writeFileSync(file, '');
  expect(() => setupLogx({ Mode: 'file', Path: join(file, 'logs') })).toThrow(
    /^Log\.Path .*plain-file\/logs: cannot write log files in .* \(ENOTDIR\); set Log\.Path to a writable directory or use Log\.Mode: console$/,
  );
  expect(() => setupLogx({ Mode: 'volume', Path: tmp() })).toThrow(/Log\.ServiceName is not set/);
});
