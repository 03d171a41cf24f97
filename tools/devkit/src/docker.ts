import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Whether Docker Engine and the Compose v2 plugin answer here; if not, why and how to fix it. */
export type DockerStatus = { ok: true } | { ok: false; reason: string };

let cached: DockerStatus | undefined;

/** Asked once per process, with deadlines (`docker info` hangs on a socket nobody serves). */
export function dockerStatus(): DockerStatus {
  cached ??= (() => {
    const info = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { encoding: 'utf8', timeout: 15_000 });
    if (info.error || info.status !== 0) {
      const why = info.error?.message ?? (info.stderr.trim().split('\n')[0] || `exit ${info.status}`);
      return { ok: false, reason: `no Docker engine answers (${why}); run \`npm run docker:setup\`` };
    }
    const compose = spawnSync('docker', ['compose', 'version', '--short'], { encoding: 'utf8', timeout: 15_000 });
    if (compose.status !== 0 || !/^v?2\./.test(compose.stdout.trim())) {
      return { ok: false, reason: 'the Compose v2 plugin is missing (`docker compose`); run `npm run docker:setup`' };
    }
    return { ok: true };
  })();
  return cached;
}

/** Says once, in the test output, why the Docker tests of a file are skipped. */
export function skipReason(what: string): boolean {
  const s = dockerStatus();
  if (s.ok) return false;
  console.warn(`[docker] skipping ${what}: ${s.reason}`);
  return true;
}

/** `docker ...` with a deadline; output as text. */
export function docker(args: string[], opts: { cwd?: string; timeout?: number; env?: NodeJS.ProcessEnv } = {}) {
  const r = spawnSync('docker', args, {
    cwd: opts.cwd,
    encoding: 'utf8',
    timeout: opts.timeout ?? 60_000,
    env: { ...process.env, DOCKER_BUILDKIT: '0', ...opts.env },
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error };
}

/** TCP listeners on the host: port → the local addresses bound (from /proc/net/tcp and tcp6). */
export function listeners(): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const [file, v6] of [
    ['/proc/net/tcp', false],
    ['/proc/net/tcp6', true],
  ] as const) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[3] !== '0A') continue; // LISTEN
      const [addrHex, portHex] = (f[1] ?? '').split(':') as [string, string];
      const port = Number.parseInt(portHex, 16);
      const addr = v6 ? decode6(addrHex) : decode4(addrHex);
      out.set(port, [...(out.get(port) ?? []), addr]);
    }
  }
  return out;
}

function decode4(hex: string): string {
  const b = Buffer.from(hex, 'hex');
  return `${b[3]}.${b[2]}.${b[1]}.${b[0]}`;
}

function decode6(hex: string): string {
  if (/^0+$/.test(hex)) return '::';
  if (hex === '00000000000000000000000001000000') return '::1';
  if (hex.startsWith('0000000000000000FFFF0000')) return `::ffff:${decode4(hex.slice(24))}`;
  return hex;
}

/** Copies the checkout's tracked and new files (no node_modules, .cache, .stack) into `dir`: what a clone holds. */
export function copyCheckout(root: string, dir: string): void {
  const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard'], { cwd: root, encoding: 'utf8' })
    .split('\n')
    .filter((f) => f !== '');
  for (const f of files) {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    cpSync(join(root, f), join(dir, f));
  }
}

/** The containers and volumes a compose project still has (ids, one a line; empty when none). */
export function projectLeftovers(project: string): { containers: string; volumes: string } {
  const label = `label=com.docker.compose.project=${project}`;
  return {
    containers: docker(['ps', '-aq', '--filter', label]).stdout.trim(),
    volumes: docker(['volume', 'ls', '-q', '--filter', label]).stdout.trim(),
  };
}
