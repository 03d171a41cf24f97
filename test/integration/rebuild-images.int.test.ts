import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { root } from '@dtm-gozero/devkit';
import { docker, skipReason } from '@dtm-gozero/devkit/docker';
import { describe, expect, test } from 'vitest';

// The images of infra/rebuild/images.json as built on this machine (npm run docker:setup): a local rebuild provides
// what the manifest says (test/rebuild-contract.test.ts checks that the project uses nothing more), says that it is
// a rebuild, and its MariaDB entrypoint refuses settings it does not implement instead of ignoring them.

const SKIP = skipReason('the rebuilt image checks');
const manifest = JSON.parse(readFileSync(join(root, 'infra/rebuild/images.json'), 'utf8')) as {
  images: Record<string, { dir: string; provides: { executables: string[]; user: string; users?: string[] } }>;
};
const LABEL = 'dtm-gozero-ts.rebuild';

const labels = (image: string): Record<string, string> | undefined => {
  const r = docker(['image', 'inspect', '-f', '{{json .Config.Labels}}', image]);
  return r.status === 0 ? ((JSON.parse(r.stdout) as Record<string, string> | null) ?? {}) : undefined;
};

describe.skipIf(SKIP)('rebuilt images', () => {
  for (const [image, { provides }] of Object.entries(manifest.images)) {
    test(`${image}: present; if a local rebuild, it is labelled and provides the manifest's programs and users`, () => {
      const l = labels(image);
      expect(l, `${image} is missing: run npm run docker:setup`).toBeDefined();
      if (!l?.[LABEL]) return; // the official image, pulled: nothing of ours to check
      expect(l['org.opencontainers.image.description']).toMatch(/^local rebuild of .*not the official image$/);
      const checks = [
        ...provides.executables.map((e) =>
          e.startsWith('/')
            ? `test -x ${e} || echo "missing ${e}"`
            : `command -v ${e} >/dev/null || echo "missing ${e}"`,
        ),
        ...[provides.user, ...(provides.users ?? [])].map((u) => `id -u ${u} >/dev/null || echo "missing user ${u}"`),
        'test "$(id -un)" = "$1" || echo "runs as $(id -un), not $1"',
      ];
      const r = docker([
        'run',
        '--rm',
        '--network',
        'none',
        '--entrypoint',
        '/bin/sh',
        image,
        '-c',
        checks.join('\n'),
        'sh',
        provides.user,
      ]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toBe('');
    });
  }

  const mariadb = Object.keys(manifest.images).find((i) => i.startsWith('mariadb:')) as string;
  test.skipIf(!labels(mariadb)?.[LABEL])('the MariaDB rebuild refuses what it does not implement, naming it', () => {
    const run = (env: string[]) =>
      docker(['run', '--rm', '--network', 'none', ...env.flatMap((e) => ['-e', e]), mariadb], { timeout: 60_000 });
    const alias = run(['MYSQL_ROOT_PASSWORD=x']);
    expect(alias.status).toBe(1);
    expect(alias.stderr).toContain('MYSQL_ROOT_PASSWORD is not supported by this local rebuild');
    const none = run([]);
    expect(none.status).toBe(1);
    expect(none.stderr).toContain('set MARIADB_ROOT_PASSWORD or MARIADB_RANDOM_ROOT_PASSWORD');
  });
});

test('docker-images.sh: an image without a recipe, and no engine, each say what to do', () => {
  const sh = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    spawnSync('bash', [join(root, 'scripts/docker-images.sh'), ...args], {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, ...env },
    });
  const noEngine = sh([], { DOCKER_HOST: 'unix:///nonexistent/docker.sock' });
  expect(noEngine.status).toBe(1);
  expect(noEngine.stderr).toContain('no Docker engine answers: run npm run docker:setup first');
  if (SKIP) return;
  const unknown = sh(['foo:1']);
  expect(unknown.status).toBe(1);
  expect(unknown.stderr).toContain('no recipe for foo:1 in infra/rebuild/images.json');
});
