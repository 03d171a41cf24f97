// The one process runner of the repository's tests and scripts: output collected for assertions, every wait bounded.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pidAlive } from '@dtm-gozero/testkit';

/** The repository's root folder. */
export const root = join(import.meta.dirname, '..', '..', '..');
/** The Go binaries `scripts/setup.sh` builds (dtm, the Go twins). */
export const bin = join(root, '.cache', 'bin');
/** The TypeScript trans and app entry points. */
export const TRANS = join(root, 'apps/trans/src/trans.ts');
export const APP = join(root, 'apps/app/src/main.ts');

/**
 * After `exit`, how long to wait for the pipes to close before calling the process ended: a daemon it left behind
 * may hold them open for good, while the last output usually follows the exit by a few milliseconds.
 */
const DRAIN_MS = 1000;

export interface Proc {
  child: ChildProcess;
  /** -1 when the command could not be started. */
  pid: number;
  /** What error messages call it (the script, or `command args…`). */
  name: string;
  /** Everything written so far (the tail only, with `keep`). */
  stdout(): string;
  stderr(): string;
  /** Resolves when `re` matches stdout or stderr; rejects after `ms`, or when the process ends first. */
  waitFor(re: RegExp, ms: number): Promise<void>;
  /** Resolves with the exit code (null: killed by a signal); rejects if the process still runs after `ms`. */
  exited(ms: number): Promise<number | null>;
  kill(signal?: NodeJS.Signals): void;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

export interface StartOptions {
  /** Default: the repository root. */
  cwd?: string | undefined;
  /** Added to this process's environment. */
  env?: NodeJS.ProcessEnv | undefined;
  /** Keep only about the last `keep` characters of each stream (a long benchmark's logs); default everything. */
  keep?: number | undefined;
  /** A process group of its own, so that a test can signal it as a terminal does (`process.kill(-pid)`). */
  group?: boolean | undefined;
}

/** Starts `cmd args…`; `name` is what its errors say. */
export function start(name: string, cmd: string, args: string[], opts: StartOptions = {}): Proc {
  const keep = opts.keep ?? Number.POSITIVE_INFINITY;
  const cap = (s: string): string => (s.length > keep * 2 ? s.slice(-keep) : s);
  const child = spawn(cmd, args, {
    cwd: opts.cwd ?? root,
    env: { ...process.env, ...opts.env },
    stdio: 'pipe',
    detached: opts.group,
  });
  let out = '';
  let err = '';
  let code: number | null | undefined;
  let ended = false;
  let spawnError: Error | undefined;
  const waiters = new Set<() => void>();
  const poke = (): void => {
    for (const w of [...waiters]) w();
  };
  const end = (): void => {
    ended = true;
    poke();
  };
  child.stdout.on('data', (d: Buffer) => {
    out = cap(out + d.toString());
    poke();
  });
  child.stderr.on('data', (d: Buffer) => {
    err = cap(err + d.toString());
    poke();
  });
  child.on('error', (e) => {
    spawnError = e;
    code ??= null;
    end();
  });
  child.on('exit', (c) => {
    code = c;
    setTimeout(end, DRAIN_MS).unref();
  });
  child.on('close', (c) => {
    code ??= c;
    end();
  });
  const wait = <T>(check: () => T | undefined, ms: number, what: string): Promise<T> =>
    new Promise((resolve, reject) => {
      const tick = (): void => {
        try {
          const v = check();
          if (v === undefined) return;
          done();
          resolve(v);
        } catch (e) {
          done();
          reject(e);
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${name}: ${what} within ${ms} ms\nstdout:\n${out}\nstderr:\n${err}`));
      }, ms);
      const done = (): void => {
        clearTimeout(timer);
        waiters.delete(tick);
      };
      waiters.add(tick);
      tick();
    });
  const exited = (ms: number): Promise<number | null> =>
    wait(
      () => {
        if (spawnError) throw new Error(`${name}: cannot start ${cmd}: ${spawnError.message}`);
        return ended ? (code ?? null) : undefined;
      },
      ms,
      'did not exit',
    );
  return {
    child,
    pid: child.pid ?? -1,
    name,
    stdout: () => out,
    stderr: () => err,
    waitFor: (re, ms) =>
      wait(
        () => {
          if (re.test(out) || re.test(err)) return true;
          if (ended)
            throw new Error(
              `${name} exited (${code}) before printing ${re}${spawnError ? `: ${spawnError.message}` : ''}\nstdout:\n${out}\nstderr:\n${err}`,
            );
          return undefined;
        },
        ms,
        `did not print ${re}`,
      ).then(() => undefined),
    exited,
    kill: (signal = 'SIGTERM') => {
      child.kill(signal);
    },
    stop: async (graceMs = 6000) => {
      if (ended) return;
      child.kill('SIGTERM');
      try {
        await exited(graceMs);
      } catch {
        child.kill('SIGKILL');
        await exited(2000).catch(() => undefined);
      }
    },
  };
}

/** Runs `node <script> ...args` from `cwd`. */
export function runNode(script: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Proc {
  return start(script, process.execPath, [script, ...args], { cwd, env });
}

/** Runs a command from `cwd` (e.g. `npm run app`, as a user types it). */
export function runCommand(
  command: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv = {},
  name = `${command} ${args.join(' ')}`,
  opts: { group?: boolean } = {},
): Proc {
  return start(name, command, args, { cwd, env, group: opts.group });
}

/** Temp dirs of tests and scripts name their owner's pid: `dtm-gozero-test-<pid>-…` (and the older `dtm-gozero-<pid>-…`). */
const OWNED_TEMP = /^dtm-gozero-(?:test-)?(\d+)-/;

const made: string[] = [];
/**
 * Writes a file into a fresh temp dir and returns its path. The dir goes when this process exits, and names the
 * process, so that `reapTempDirs` removes it when the process was killed (a test worker may end without exit handlers).
 */
export function tempFile(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), `dtm-gozero-test-${process.pid}-`));
  if (made.length === 0)
    process.once('exit', () => {
      for (const d of made) rmSync(d, { recursive: true, force: true });
    });
  made.push(dir);
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}

/**
 * Removes the temp dirs of `tempFile` whose owner process is gone: the integration run's setup and teardown call it,
 * so a run leaves none behind (they piled up by the dozen before).
 */
export function reapTempDirs(dir = tmpdir()): number {
  let n = 0;
  for (const name of readdirSync(dir)) {
    const owner = OWNED_TEMP.exec(name)?.[1];
    if (owner === undefined || pidAlive(Number(owner))) continue;
    rmSync(join(dir, name), { recursive: true, force: true });
    n++;
  }
  return n;
}
