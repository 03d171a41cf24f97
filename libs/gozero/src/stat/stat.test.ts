// go-zero's stat lines: the request line's figures as go-zero computes them, and, on a real server with a short
// interval, the usage and request lines in stat.log (Log.Mode file) — and none with Log.Stat: false.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@dtm-gozero/devkit';
import { callOnce } from '@dtm-gozero/devkit/gozero';
import { TransSvcService } from '@dtm-gozero/proto/trans';
import { afterAll, afterEach, expect, test } from 'vitest';
import type { RpcServerConf } from '../conf/config.ts';
import { closeLogx, setupLogx } from '../logx/logx.ts';
import { newRpcClient } from '../zrpc/client.ts';
import { RpcServer } from '../zrpc/server.ts';
import { requestLine } from './stat.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
afterEach(async () => {
  await closeLogx();
  setupLogx();
});

test("the request line: qps over the interval, go-zero's average, median and top percentiles", () => {
  const ten = Array.from({ length: 10 }, (_, i) => i + 1);
  expect(requestLine('svc', ten, 2, 60_000)).toBe(
    '(svc) - qps: 0.2/s, drops: 2, avg time: 5.5ms, med: 6.0ms, 90th: 10.0ms, 99th: 10.0ms, 99.9th: 10.0ms',
  );
  const thousand = Array.from({ length: 1000 }, (_, i) => 1000 - i);
  expect(requestLine('svc', thousand, 0, 60_000)).toBe(
    '(svc) - qps: 16.7/s, drops: 0, avg time: 500.5ms, med: 501.0ms, 90th: 901.0ms, 99th: 991.0ms, 99.9th: 1000.0ms',
  );
  expect(requestLine('svc', [], 0, 60_000)).toBe(
    '(svc) - qps: 0.0/s, drops: 0, avg time: 0.0ms, med: 0.0ms, 90th: 0.0ms, 99th: 0.0ms, 99.9th: 0.0ms',
  );
  expect(requestLine('svc', [7.25], 0, 60_000)).toMatch(/avg time: 7\.0ms, med: 7\.3ms, 90th: 7\.3ms/);
});

async function run(log: RpcServerConf['Log'], calls: number, { everyMs = 400, waitMs = 1500 } = {}): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'stat-test-'));
  dirs.push(dir);
  const port = await freePort();
  const ok = (_c: unknown, cb: (e: null, v: object) => void) => setTimeout(() => cb(null, {}), 5);
  const s = new RpcServer(
    {
      Name: 'statsvc',
      ListenOn: `127.0.0.1:${port}`,
      Mode: 'dev',
      Timeout: 2000,
      Log: { ...log, Mode: 'file', Path: dir },
    },
    (srv) => srv.addService(TransSvcService, { transIn: ok, transOut: ok }),
    { statIntervalMs: everyMs },
  );
  await s.start();
  const c = await newRpcClient({ Endpoints: [`127.0.0.1:${port}`], NonBlock: false, Timeout: 2000 });
  try {
    for (let i = 0; i < calls; i++) {
      await callOnce(c);
    }
    await new Promise((r) => setTimeout(r, waitMs)); // three intervals or so
  } finally {
    c.close();
    await s.stop(0);
  }
  // read before closeLogx: stop() itself waits for its last lines to reach the files
  return readFileSync(join(dir, 'stat.log'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const j = JSON.parse(l) as { level: string; content: string };
      expect(j.level).toBe('stat');
      return j.content;
    });
}

test('a server with a short interval writes the usage line and its request line to stat.log', {
  timeout: 20_000,
}, async () => {
  const contents = await run({}, 4);
  expect(contents).toContainEqual(
    expect.stringMatching(/^CPU: \d+m, MEMORY: Alloc=\d+\.\dMi, TotalAlloc=\d+\.\dMi, Sys=\d+\.\dMi, NumGC=\d+$/),
  );
  const requests = contents.filter((l) => l.startsWith('(statsvc) - '));
  for (const l of requests) {
    expect(l).toMatch(
      /^\(statsvc\) - qps: \d+\.\d\/s, drops: 0, avg time: \d+\.\dms, med: \d+\.\dms, 90th: \d+\.\dms, 99th: \d+\.\dms, 99\.9th: \d+\.\dms$/,
    );
  }
  // every call counted once (qps × 0.4 s summed over the lines); the handler's 5 ms in the median
  const qps = requests.map((l) => Number(/qps: ([\d.]+)/.exec(l)?.[1]));
  expect(qps.reduce((a, b) => a + b, 0) * 0.4).toBeCloseTo(4, 5);
  expect(Number(/med: ([\d.]+)ms/.exec(requests[0] ?? '')?.[1])).toBeGreaterThanOrEqual(4);
  // from the first call on, a line every interval, also one without calls (as go-zero's executor)
  expect(requests.at(-1)).toMatch(/^\(statsvc\) - qps: 0\.0\/s, drops: 0, avg time: 0\.0ms/);
});

test("stop() writes the interval's last request line, and it is in stat.log when stop() resolves", {
  timeout: 20_000,
}, async () => {
  const requests = (await run({}, 3, { everyMs: 60_000, waitMs: 0 })).filter((l) => l.startsWith('(statsvc)'));
  expect(requests).toHaveLength(1);
  expect(requests[0]).toMatch(/^\(statsvc\) - qps: 0\.1\/s, drops: 0, avg time: \d+\.\dms, med: ([4-9]|\d\d+)\.\dms/);
});

test('Log.Stat: false writes no stat line', { timeout: 20_000 }, async () => {
  expect(await run({ Stat: false }, 2)).toEqual([]);
});
