// Child processes for npm run interop, tools/bench and a few integration tests: output kept, every wait bounded.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const root = join(import.meta.dirname, '..', '..');
export const bin = join(root, '.cache', 'bin');

export interface Child {
  proc: ChildProcess;
  pid: number;
  name: string;
  stdout(): string;
  stderr(): string;
  /** Resolves when `re` matches stdout or stderr; rejects after `ms` or if the process exits first. */
  waitFor(re: RegExp, ms: number): Promise<void>;
  /** Resolves with the exit code (null: killed by a signal); rejects if still running after `ms`. */
  exited(ms: number): Promise<number | null>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

export interface StartOptions {
  cwd?: string | undefined;
  env?: NodeJS.ProcessEnv | undefined;
  /** Keep only about the last `keep` characters of each stream (a long benchmark's logs); default everything. */
  keep?: number | undefined;
}

export function start(name: string, cmd: string, args: string[], opts: StartOptions = {}): Child {
  const keep = opts.keep ?? Number.POSITIVE_INFINITY;
  const cap = (s: string): string => (s.length > keep * 2 ? s.slice(-keep) : s);
  const proc = spawn(cmd, args, { cwd: opts.cwd ?? root, env: { ...process.env, ...opts.env }, stdio: 'pipe' });
  let out = '';
  let err = '';
  let code: number | null | undefined;
  let spawnError: Error | undefined;
  const waiters = new Set<() => void>();
  const poke = (): void => {
    for (const w of [...waiters]) w();
  };
  proc.stdout.on('data', (d: Buffer) => {
    out = cap(out + d.toString());
    poke();
  });
  proc.stderr.on('data', (d: Buffer) => {
    err = cap(err + d.toString());
    poke();
  });
  proc.on('error', (e) => {
    spawnError = e;
    code ??= null;
    poke();
  });
  proc.on('close', (c) => {
    code = c;
    poke();
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
        return code === undefined ? undefined : code;
      },
      ms,
      'did not exit',
    );
  return {
    proc,
    pid: proc.pid ?? -1,
    name,
    stdout: () => out,
    stderr: () => err,
    waitFor: (re, ms) =>
      wait(
        () => {
          if (re.test(out) || re.test(err)) return true;
          if (code !== undefined)
            throw new Error(
              `${name} exited (${code}) before printing ${re}${spawnError ? `: ${spawnError.message}` : ''}\nstdout:\n${out}\nstderr:\n${err}`,
            );
          return undefined;
        },
        ms,
        `did not print ${re}`,
      ).then(() => undefined),
    exited,
    stop: async (graceMs = 6000) => {
      if (code !== undefined) return;
      proc.kill('SIGTERM');
      try {
        await exited(graceMs);
      } catch {
        proc.kill('SIGKILL');
        await exited(2000).catch(() => undefined);
      }
    },
  };
}

/** A free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

const made: string[] = [];
/**
 * Writes a file into a fresh temp dir and returns its path; the dir goes when this process exits (and names the
 * process, so that the test suite's reaper removes it if the process was killed).
 */
export function tempFile(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), `dtm-gozero-${process.pid}-`));
  if (made.length === 0)
    process.once('exit', () => {
      for (const d of made) rmSync(d, { recursive: true, force: true });
    });
  made.push(dir);
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}

/** A go-zero YAML: `Etcd` with these hosts and key, plus ListenOn when given (a server's config). */
export function gozeroYaml(hosts: string[], key: string, listenOn?: string): string {
  const h = hosts.map((x) => `    - ${x}\n`).join('');
  return `${listenOn ? `Name: trans.rpc\nListenOn: ${listenOn}\n` : ''}Etcd:\n  Hosts:\n${h}  Key: ${key}\n`;
}
