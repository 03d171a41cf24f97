// A test run killed before its teardown leaves its databases running; the next run stops them (reapOrphanedDatabases
// of @dtm-gozero/testkit, called by every startDatabases).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, freePort, pidAlive } from '@dtm-gozero/devkit';
import { reapOrphanedDatabases } from '@dtm-gozero/testkit';
import { expect, test } from 'vitest';

test('the servers of a run whose owner died are stopped and their dir removed; a live owner keeps its own', async () => {
  const deadOwner = spawnSync('true').pid as number; // exited: its pid names no process now
  // daemonized, as scripts/db.sh runs them: not this process's children (a child would linger as a zombie while
  // the synchronous reaper blocks the event loop that reaps it)
  const server = async (dir: string, port: number): Promise<number> => {
    const pidFile = join(dir, 'redis.pid');
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
    spawnSync('redis-server', [...args, '--daemonize', 'yes', '--pidfile', pidFile, '--dir', dir], { timeout: 10_000 });
    return eventually(
      async () => (existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) || undefined : undefined),
      10_000,
      `redis-server pid file ${pidFile}`,
    );
  };
  const orphanDir = mkdtempSync(join(tmpdir(), 'dtm-testkit-db-'));
  writeFileSync(join(orphanDir, 'owner.pid'), String(deadOwner));
  const orphan = await server(orphanDir, await freePort());
  const ownedDir = mkdtempSync(join(tmpdir(), 'dtm-testkit-db-'));
  writeFileSync(join(ownedDir, 'owner.pid'), String(process.pid));
  const owned = await server(ownedDir, await freePort());
  try {
    expect(reapOrphanedDatabases()).toBeGreaterThanOrEqual(1);
    await eventually(async () => (pidAlive(orphan) ? undefined : true), 10_000, 'orphaned redis stopped');
    expect(existsSync(orphanDir)).toBe(false);
    expect(pidAlive(owned)).toBe(true);
    expect(existsSync(ownedDir)).toBe(true);
  } finally {
    for (const pid of [orphan, owned]) if (pidAlive(pid)) process.kill(pid, 'SIGKILL');
    spawnSync('rm', ['-rf', orphanDir, ownedDir]);
  }
});
