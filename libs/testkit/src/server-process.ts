// The servers a fixture runs as child processes (etcd, dtm, kube-apiserver): spawned with a clean environment and
// their output lines kept, stopped with a bound, and killed if the test process exits while they run.
import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { childEnv } from './child-env.ts';
import { onProcessExit } from './cleanup.ts';

/** A server process: its last output lines (for the error when it dies), and whether it has exited. */
export interface ServerProcess {
  name: string;
  proc: ChildProcess;
  tail: string[];
  done: boolean;
  /** Resolves once the process has exited (or could not be spawned). */
  exited: Promise<void>;
}

/**
 * Spawns `bin` (clean environment, stdin ignored); each line of stderr (and of stdout with `stdout: true`) goes to
 * `log` as `[name] …`, and the last `keep` lines stay in `tail`. A binary that cannot be spawned is an exit with
 * the reason in `tail`, never an unhandled 'error' event.
 */
export function spawnServer(
  bin: string,
  args: string[],
  o: { cwd: string; name: string; keep: number; log: (line: string) => void; stdout?: boolean },
): ServerProcess {
  const proc = spawn(bin, args, {
    cwd: o.cwd,
    env: childEnv(),
    stdio: ['ignore', o.stdout ? 'pipe' : 'ignore', 'pipe'],
  });
  const server: ServerProcess = { name: o.name, proc, tail: [], done: false, exited: Promise.resolve() };
  const keepLine = (line: string): void => {
    server.tail.push(line);
    if (server.tail.length > o.keep) server.tail.shift();
  };
  server.exited = new Promise((resolve) => {
    proc.once('exit', () => {
      server.done = true;
      resolve();
    });
    proc.once('error', (err) => {
      keepLine(`spawn error: ${err.message}`);
      server.done = true;
      resolve();
    });
  });
  const lines = (): ((d: Buffer) => void) => {
    let partial = '';
    return (d) => {
      const all = (partial + d.toString()).split('\n');
      partial = all.pop() ?? '';
      for (const line of all) {
        keepLine(line);
        o.log(`[${o.name}] ${line}`);
      }
    };
  };
  proc.stdout?.on('data', lines());
  proc.stderr?.on('data', lines());
  return server;
}

/** Why a wait for the server should stop: it exited (how, and its last lines); undefined while it runs. */
export function exitReason(s: ServerProcess | undefined): string | undefined {
  if (!s?.done) return undefined;
  const how = s.proc.signalCode ? `signal ${s.proc.signalCode}` : `code ${s.proc.exitCode}`;
  return `${s.name} exited (${how}); its last lines:\n${s.tail.join('\n')}`;
}

const timer = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms).unref());

/** Sends `signal`, waits up to `graceMs` for the exit, then SIGKILL and up to 5 s more: never an unbounded wait. */
export async function stopServer(s: ServerProcess | undefined, graceMs: number, signal: NodeJS.Signals = 'SIGTERM') {
  if (!s || s.done) return;
  s.proc.kill(signal);
  if (signal !== 'SIGKILL') await Promise.race([s.exited, timer(graceMs)]);
  if (s.done) return;
  s.proc.kill('SIGKILL');
  await Promise.race([s.exited, timer(5000)]);
}

/** SIGKILL now, synchronously (the process-exit path). */
export function killNow(s: ServerProcess | undefined): void {
  if (s && !s.done && s.proc.pid) {
    try {
      process.kill(s.proc.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/**
 * A server that a test may kill and start again: `start()` spawns it (again), and until `release()` it is killed
 * and `dir` removed if the test process exits first (normally, on an error, or on SIGINT/SIGTERM/SIGHUP).
 */
export function restartableServer(
  spawnIt: () => ServerProcess,
  dir: string,
): {
  start(): ServerProcess;
  current(): ServerProcess | undefined;
  kill(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
  release(): void;
} {
  let current: ServerProcess | undefined;
  const release = onProcessExit(() => {
    killNow(current);
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    start: () => {
      current = spawnIt();
      return current;
    },
    current: () => current,
    kill: (signal = 'SIGKILL', graceMs = 10_000) => stopServer(current, graceMs, signal),
    release,
  };
}
