// scripts/docker-setup.sh where no engine can be had: each case a message naming the fix and exit 1, or exit 0 with
// the message when DOCKER_SETUP_OPTIONAL=1 (CI: the Docker tests then skip and say why). The machine's own docker
// and dockerd are hidden behind a PATH of stand-ins for the commands the script would call; nothing is installed
// or started.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';

const root = join(import.meta.dirname, '..');
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A PATH with the basic tools and the given stand-in scripts only (no docker, dockerd, sudo, apt-get). */
function fakePath(stubs: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'docker-setup-path-'));
  dirs.push(dir);
  for (const tool of ['bash', 'timeout', 'grep', 'cat', 'sleep', 'setsid', 'tail', 'mkdir', 'kill', 'rm', 'dirname']) {
    symlinkSync(`/usr/bin/${tool}`, join(dir, tool));
  }
  for (const [name, body] of Object.entries(stubs)) {
    writeFileSync(join(dir, name), `#!/bin/bash\n${body}\n`);
    chmodSync(join(dir, name), 0o755);
  }
  return dir;
}

function setup(stubs: Record<string, string>, env: NodeJS.ProcessEnv = {}) {
  const dir = fakePath(stubs);
  const r = spawnSync('/usr/bin/bash', [join(root, 'scripts/docker-setup.sh'), 'engine'], {
    encoding: 'utf8',
    timeout: 60_000,
    env: {
      PATH: dir,
      HOME: dir,
      DOCKERD_PID_FILE: join(dir, 'dockerd.pid'),
      DOCKERD_LOG: join(dir, 'dockerd.log'),
      DOCKERD_WAIT_S: '3',
      ...env,
    },
  });
  return { status: r.status, stderr: r.stderr, stdout: r.stdout };
}

test('no engine, and not root without sudo: says to install Docker or run as root; exit 1', () => {
  const r = setup({ id: 'echo 1000' });
  expect(r.status).toBe(1);
  expect(r.stderr).toContain(
    'docker-setup: no Docker engine answers and installing one needs root (or sudo): install Docker Engine, or run this as root',
  );
});

test('DOCKER_SETUP_OPTIONAL=1 turns that into exit 0, with the message', () => {
  const r = setup({ id: 'echo 1000' }, { DOCKER_SETUP_OPTIONAL: '1' });
  expect(r.status).toBe(0);
  expect(r.stderr).toContain('(DOCKER_SETUP_OPTIONAL=1: continuing; the Docker tests will skip and say why)');
});

test('a dockerd that cannot start: its last lines and the reason; exit 1', () => {
  const r = setup({
    id: 'echo 0',
    docker: 'exit 1',
    dockerd: 'echo "failed to mount overlay: operation not permitted" >&2; exit 1',
  });
  expect(r.status).toBe(1);
  expect(r.stderr).toContain('failed to mount overlay: operation not permitted');
  expect(r.stderr).toContain('dockerd exited at start (last lines above): this machine cannot run a Docker engine');
});
