// For the testkit's own integration tests: a process that starts a local stack and dies without stop(), and the
// stack's ports that are still open afterwards (what the testkit's reaping must leave: none).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type DtmStack,
  type DtmStore,
  type MysqlServer,
  pidAlive,
  portOpen,
  type RedisServer,
} from '@dtm-gozero/testkit';
import { until } from './poll.ts';

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
  let open: number[] = [];
  const closed = async (): Promise<boolean> => {
    open = await openPorts(stack);
    return open.length === 0;
  };
  await until(closed, ms, 'ports closed').catch(() => undefined);
  return open;
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
    `import { startDtmStack } from ${JSON.stringify(import.meta.resolve('@dtm-gozero/testkit'))};
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
  if (!info.pids.every(pidAlive)) throw new Error('victim: servers not running before the victim died');
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
