// One supervised server of a cluster: started, killed and restarted by name, its output in a log file.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitUntil } from '@dtm-gozero/testkit';

const START_MS = 30_000;

/** One supervised server: started, killed and restarted by name; output appended to `<dir>/<name>.log`. */
export class Service {
  readonly name: string;
  readonly log: string;
  #proc: ChildProcess | undefined;
  #exited = true;
  readonly #cmd: string;
  readonly #args: string[];
  readonly #cwd: string;
  readonly #detached: boolean;
  readonly #ready: () => Promise<boolean>;

  constructor(
    dir: string,
    name: string,
    cmd: string,
    args: string[],
    ready: () => Promise<boolean>,
    o: { cwd?: string; detached?: boolean } = {},
  ) {
    this.name = name;
    this.log = join(dir, `${name}.log`);
    this.#cmd = cmd;
    this.#args = args;
    this.#cwd = o.cwd ?? dir;
    this.#detached = o.detached ?? false;
    this.#ready = ready;
  }

  get pid(): number | undefined {
    return this.#exited ? undefined : this.#proc?.pid;
  }

  /** Starts the process and waits (bounded) until it answers. */
  async start(ms = START_MS): Promise<void> {
    if (this.pid !== undefined) throw new Error(`${this.name} is already running (pid ${this.pid})`);
    const fd = openSync(this.log, 'a');
    const p = spawn(this.#cmd, this.#args, { cwd: this.#cwd, stdio: ['ignore', fd, fd], detached: true });
    closeSync(fd);
    this.#proc = p;
    this.#exited = false;
    p.once('exit', () => {
      if (this.#proc === p) this.#exited = true;
    });
    if (this.#detached) p.unref();
    await waitUntil(this.#ready, ms, `${this.name} did not come up (log: ${this.log})`, () =>
      this.#exited ? `it exited; last lines of ${this.log}:\n${tail(this.log)}` : undefined,
    );
  }

  /** Sends `signal` and waits (bounded) until the process is gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL', ms = 10_000): Promise<void> {
    const p = this.#proc;
    if (!p || this.#exited) return;
    const gone = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill(signal);
    const t = setTimeout(() => p.kill('SIGKILL'), ms);
    await gone;
    clearTimeout(t);
  }
}

function tail(file: string, n = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-n).join('\n');
  } catch {
    return '(no log)';
  }
}
