import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');

// Starts the local stack (real etcd + real dtm) unless it already answers; stops only what it started.
let started = false;

export async function setup(): Promise<void> {
  const out = execFileSync('bash', [join(root, 'scripts/stack.sh'), 'up'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  process.stdout.write(out);
  started = /started \(pid/.test(out);
}

export async function teardown(): Promise<void> {
  if (started) execFileSync('bash', [join(root, 'scripts/stack.sh'), 'down'], { stdio: 'inherit' });
}
