// Helpers of the testkit's integration tests (test support: not part of the package).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../../../test/support/procs.ts';
import { portOpen } from '../src/ports.ts';
import type { DtmStore, MysqlServer, RedisServer } from '../src/stores.ts';
import type { DtmStack } from '../src/types.ts';

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

/**
 * The stack's ports still open after up to `ms` (a port of a dead server can only be open again if another process
 * on this machine took it meanwhile: waiting a little tells that apart from a server shutting down).
 */
export async function openPortsAfter(stack: Pick<DtmStack, 'ports'>, ms = 3000): Promise<number[]> {
  const end = Date.now() + ms;
  let open = await openPorts(stack);
  while (open.length > 0 && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 100));
    open = await openPorts(stack);
  }
  return open;
}

/** Polls until `fn` is true (or throws after `ms`), on the suite's one poller. */
export async function until(fn: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  await eventually(async () => ((await fn()) ? true : undefined), ms, what);
}

/** What a victim process reports about its stack, and the signal it died of. */
export interface Victim {
  pids: number[];
  ports: DtmStack['ports'];
  mysqlDatabase?: string;
  redisPrefix?: string;
  signal: string | null;
}

/**
 * Runs a Node process that starts a local stack, prints it, then dies: of an uncaught exception (`throw`) or of
 * SIGTERM sent by us (`sigterm`), without calling stop().
 */
export async function runVictim(
  mode: 'throw' | 'sigterm',
  store: DtmStore = 'boltdb',
  servers: { mysql?: MysqlServer; redis?: RedisServer } = {},
): Promise<Victim> {
  const dir = mkdtempSync(join(tmpdir(), 'testkit-victim-'));
  try {
    return await victim(join(dir, 'victim.ts'), mode, store, servers);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function victim(
  script: string,
  mode: 'throw' | 'sigterm',
  store: DtmStore,
  servers: { mysql?: MysqlServer; redis?: RedisServer },
): Promise<Victim> {
  writeFileSync(
    script,
    `import { startDtmStack } from ${JSON.stringify(join(import.meta.dirname, '..', 'src', 'index.ts'))};
const s = await startDtmStack({ backend: 'local', store: ${JSON.stringify(store)}, ...${JSON.stringify(servers)} });
const { pids, ports, mysqlDatabase, redisPrefix } = s;
console.log(JSON.stringify({ pids, ports, mysqlDatabase, redisPrefix }));
if (process.argv[2] === 'throw') process.stdin.once('data', () => { throw new Error('boom'); });
else setInterval(() => {}, 1000);
`,
  );
  const child = spawn(process.execPath, [script, mode], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<string | null>((resolve) => child.on('exit', (_code, sig) => resolve(sig)));
  await until(() => out.includes('\n') || child.exitCode !== null, 30_000, 'victim started its stack');
  if (!out.includes('\n')) throw new Error(`victim exited before starting its stack:\n${err}`);
  const info = JSON.parse(out.split('\n')[0] ?? '{}') as Omit<Victim, 'signal'>;
  if (!info.pids.every(alive)) throw new Error('victim: servers not running before the victim died');
  if (mode === 'sigterm') child.kill('SIGTERM');
  else child.stdin.write('go\n');
  let timer: NodeJS.Timeout | undefined;
  const signal = await Promise.race([
    exited,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error('victim did not exit'));
      }, 15_000);
    }),
  ]).finally(() => clearTimeout(timer));
  return { ...info, signal };
}
