import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { startEtcd } from './etcd.ts';
import { exitReason, spawnServer, stopServer } from './server-process.ts';

const pids: number[] = [];
const alive = (pid: number): boolean => existsSync(`/proc/${pid}`);
afterEach(() => {
  for (const pid of pids.splice(0)) if (alive(pid)) process.kill(pid, 'SIGKILL');
});

// A node that ignores SIGTERM and says so once its handler is in place.
const STUBBORN = "process.on('SIGTERM', () => {}); console.error('ready'); setInterval(() => {}, 1000);";

test('a binary that cannot be spawned is an exit with the reason, not an unhandled error event', async () => {
  const s = spawnServer('/nonexistent/etcd', [], { cwd: tmpdir(), name: 'etcd', keep: 5, log: () => undefined });
  await s.exited;
  expect(exitReason(s)).toMatch(/^etcd exited .*its last lines:\nspawn error: .*ENOENT/s);
});

test('startEtcd with a missing etcd binary rejects naming it (it crashed the process with an unhandled error)', async () => {
  await expect(startEtcd({ etcdBin: '/nonexistent/etcd', timeoutMs: 10_000 })).rejects.toThrow(
    /etcd exited.*spawn error: .*ENOENT/s,
  );
});

test('stopServer: SIGTERM, then SIGKILL once the grace is over; the output lines are kept', async () => {
  const lines: string[] = [];
  const s = spawnServer(process.execPath, ['-e', STUBBORN], {
    cwd: tmpdir(),
    name: 'stubborn',
    keep: 5,
    log: (l) => lines.push(l),
  });
  pids.push(s.proc.pid as number);
  while (!lines.includes('[stubborn] ready')) await new Promise((r) => setTimeout(r, 20));
  const t0 = Date.now();
  await stopServer(s, 300);
  expect(s.done).toBe(true);
  expect(s.proc.signalCode).toBe('SIGKILL');
  expect(Date.now() - t0).toBeLessThan(5000);
  expect(exitReason(s)).toBe('stubborn exited (signal SIGKILL); its last lines:\nready');
});

test('restartableServer: killed and its dir removed when the owning process exits without stopping it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'server-process-test-'));
  const module = join(import.meta.dirname, 'server-process.ts');
  // The owner starts a server, prints its pid, and exits at once (no stop()).
  const owner = `
    import { restartableServer, spawnServer } from ${JSON.stringify(module)};
    const s = restartableServer(() => spawnServer(process.execPath, ['-e', 'setInterval(() => {}, 1000)'],
      { cwd: ${JSON.stringify(dir)}, name: 'sleeper', keep: 5, log: () => {} }), ${JSON.stringify(dir)});
    console.log(s.start().proc.pid);
    process.exit(0);`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', owner], { encoding: 'utf8', timeout: 30_000 });
  expect(r.status, r.stderr).toBe(0);
  const pid = Number(r.stdout.trim());
  pids.push(pid);
  expect(pid).toBeGreaterThan(0);
  // Killed before the owner exited; the orphan is gone once init has reaped it.
  for (let i = 0; i < 100 && alive(pid); i++) await new Promise((res) => setTimeout(res, 50));
  expect(alive(pid), `server ${pid} still running 5 s after its owner exited`).toBe(false);
  expect(existsSync(dir)).toBe(false);
});
