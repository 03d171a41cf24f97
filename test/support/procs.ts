import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testDatabases, testStack } from './stack-context.ts';

export const root = join(import.meta.dirname, '..', '..');

/** `n` distinct loopback ports that were free a moment ago (all held at once, then released). */
export async function freePorts(n: number): Promise<number[]> {
  const servers = Array.from({ length: n }, () => createServer());
  const ports = await Promise.all(
    servers.map(
      (s) =>
        new Promise<number>((resolve, reject) => {
          s.once('error', reject);
          s.listen(0, '127.0.0.1', () => resolve((s.address() as { port: number }).port));
        }),
    ),
  );
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return (await freePorts(1))[0] as number;
}

/** Temp dirs of tests and of the scripts they run name their owner's pid: `dtm-gozero-test-<pid>-…`, `dtm-gozero-<pid>-…`. */
const OWNED_TEMP = /^dtm-gozero-(?:test-)?(\d+)-/;

/**
 * Writes a file into a fresh temp dir and returns its path. The dir names this process, so that `reapTempDirs`
 * removes it once the process is gone (a test worker may end without running exit handlers).
 */
export function tempFile(name: string, text: string): string {
  const f = join(mkdtempSync(join(tmpdir(), `dtm-gozero-test-${process.pid}-`)), name);
  writeFileSync(f, text);
  return f;
}

/**
 * Removes the temp dirs (tempFile's, and those of scripts/lib/child.ts) whose owner process is gone: the
 * integration run's setup and teardown call it, so a run leaves none behind (they piled up by the dozen before).
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

export interface Proc {
  child: ChildProcess;
  /** Everything written so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code; rejects if the process is still running after `ms`. */
  exited(ms: number): Promise<number | null>;
  /** Resolves when `re` matches stdout+stderr; rejects after `ms` or when the process exits first. */
  waitFor(re: RegExp, ms: number): Promise<void>;
  kill(signal?: NodeJS.Signals): void;
}

/** Runs `node <script> ...args` from `cwd`; output is collected for assertions. */
export function runNode(script: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Proc {
  return runCommand(process.execPath, [script, ...args], cwd, env, script);
}

/** Runs a command from `cwd` (e.g. `npm run app`, as a user types it); output is collected for assertions. */
export function runCommand(
  command: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv = {},
  script = `${command} ${args.join(' ')}`,
  opts: { group?: boolean } = {},
): Proc {
  // group: a process group of its own, so that a test can signal it as a terminal does (`process.kill(-pid)`).
  const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: 'pipe', detached: opts.group });
  let out = '';
  let err = '';
  let exitCode: number | null | undefined;
  const listeners = new Set<() => void>();
  const notify = (): void => {
    for (const l of listeners) l();
  };
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
    notify();
  });
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
    notify();
  });
  child.on('exit', (code) => {
    exitCode = code;
    notify();
  });
  const wait = <T>(check: () => T | undefined, ms: number, what: string): Promise<T> =>
    new Promise((resolve, reject) => {
      const done = (): boolean => {
        const v = check();
        if (v === undefined) return false;
        listeners.delete(tick);
        clearTimeout(timer);
        resolve(v);
        return true;
      };
      const tick = (): void => {
        done();
      };
      const timer = setTimeout(() => {
        listeners.delete(tick);
        reject(new Error(`${what} within ${ms} ms; stdout:\n${out}\nstderr:\n${err}`));
      }, ms);
      listeners.add(tick);
      done();
    });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited: (ms) => wait(() => (exitCode === undefined ? undefined : exitCode), ms, `${script} did not exit`),
    waitFor: (re, ms) =>
      wait(
        () => {
          if (re.test(out + err)) return true;
          if (exitCode !== undefined)
            throw new Error(`${script} exited (${exitCode}) before printing ${re}:\n${out}\n${err}`);
          return undefined;
        },
        ms,
        `${script} did not print ${re}`,
      ).then(() => undefined),
    kill: (signal = 'SIGTERM') => {
      child.kill(signal);
    },
  };
}

export const TRANS = join(root, 'apps/trans/src/trans.ts');
export const APP = join(root, 'apps/app/src/main.ts');

/** YAML lines of `Etcd.Hosts` (default: the integration stack's etcd). */
const hostsYaml = (hosts: string | string[] = testStack().etcdEndpoints): string =>
  [hosts]
    .flat()
    .map((h) => `    - ${h}\n`)
    .join('');

/** `Mysql.DataSource` of the suite's own MariaDB (the DB-backed modes), as YAML lines. */
const mysqlYaml = (): string => `Mysql:\n  DataSource: ${testDatabases().mysqlUrl}dtm_busi\n`;

/**
 * Starts trans on a free port under a unique key in the test stack's etcd; resolves once it printed its banner.
 * `bank`: trans keeps the bank in the suite's MariaDB (the XA and DB modes need a database; never one on 3306).
 */
export async function startTrans(
  key: string,
  opts: { bank?: boolean } = {},
): Promise<{ proc: Proc; port: number; config: string }> {
  const port = await freePort();
  const config = tempFile(
    'trans.yaml',
    `Name: trans.rpc\nListenOn: 127.0.0.1:${port}\nEtcd:\n  Hosts:\n${hostsYaml()}  Key: ${key}\n${opts.bank ? mysqlYaml() : ''}`,
  );
  const proc = runNode(TRANS, ['-f', config], join(root, 'apps/trans'));
  await proc.waitFor(/Starting rpc server at/, 15_000);
  return { proc, port, config };
}

/** The app config the Go example uses, with another etcd key (and the test stack's etcd unless `hosts` is given). */
export function appConfig(key: string, hosts?: string | string[]): string {
  return tempFile('config.yaml', `Etcd:\n  Hosts:\n${hostsYaml(hosts)}  Key: ${key}\n`);
}

/**
 * Runs the app (from apps/app) against the test stack's dtm: `--dtm <dtmTarget> --dtm-http <dtmHttp>` are added
 * unless `args` pass their own, so neither the defaults (the fixed-port stack) nor DTM_TARGET / DTM_HTTP apply.
 */
export function runApp(args: string[]): Proc {
  const { dtmTarget, dtmHttp } = testStack();
  const own = (flag: string): boolean => args.some((a) => a === flag || a.startsWith(`${flag}=`));
  return runNode(
    APP,
    [...args, ...(own('--dtm') ? [] : ['--dtm', dtmTarget]), ...(own('--dtm-http') ? [] : ['--dtm-http', dtmHttp])],
    join(root, 'apps/app'),
  );
}

/** Whether a process with this pid exists (EPERM: it does, owned by someone else). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Polls until `fn` returns a value other than undefined, or throws after `ms`. */
export async function eventually<T>(fn: () => Promise<T | undefined>, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} not reached within ${ms} ms${last ? ` (last error: ${String(last)})` : ''}`);
}
