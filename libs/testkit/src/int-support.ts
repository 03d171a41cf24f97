// Helpers of the testkit's integration tests (not exported by the lib).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './paths.ts';
import { portOpen } from './ports.ts';
import type { DtmStack } from './types.ts';

/** Whether a pid is a live process (a zombie counts as gone: it only waits for its parent to reap it). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return true; // no /proc: trust kill(0)
  }
}

/** The stack's ports that still accept connections. */
export async function openPorts(stack: Pick<DtmStack, 'ports'>): Promise<number[]> {
  const ports = Object.values(stack.ports).filter((p): p is number => p !== undefined);
  const open = await Promise.all(ports.map((p) => portOpen(p)));
  return ports.filter((_, i) => open[i]);
}

/** Starts the project's MariaDB and Redis (`scripts/db.sh up`, idempotent) unless both already answer. */
export async function ensureDatabases(): Promise<void> {
  if ((await portOpen(3306)) && (await portOpen(6379))) return;
  execFileSync('bash', [join(REPO_ROOT, 'scripts/db.sh'), 'up'], { stdio: 'inherit', timeout: 120_000 });
}

/** Polls `fn` until it returns true (or throws after `ms`). */
export async function until(fn: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`${what} not reached within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
