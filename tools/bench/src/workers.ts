// The bench's side of the load generators: a long-lived process per language, asked for one level at a time over
// stdin/stdout (protocol.ts), every answer awaited with a deadline.
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { bin, type Proc, start } from '@dtm-gozero/devkit';
import { resolveTarget } from '@dtm-gozero/gozero';
import type { GidSource } from './protocol.ts';
import { LOG_KEEP } from './trans.ts';

/**
 * Which load generator: our worker.ts (grpc-js), worker-connect.ts (Connect's gRPC transport), worker-bare.ts (the
 * same calls on grpc-js alone), or the Go twin's.
 */
export type WorkerKind = 'ts' | 'connect' | 'bare' | 'go';

/** A load generator speaking protocol.ts's line protocol (our worker.ts or worker-connect.ts, or `go-app -bench-worker`). */
export class Worker {
  readonly child: Proc;
  readonly lang: WorkerKind;
  private readonly lines: string[] = [];
  private wake: (() => void) | undefined;

  constructor(child: Proc, lang: WorkerKind) {
    this.child = child;
    this.lang = lang;
    createInterface({ input: child.child.stdout as NodeJS.ReadableStream }).on('line', (l) => {
      this.lines.push(l);
      this.wake?.();
    });
  }

  async next(ms: number): Promise<string> {
    const end = Date.now() + ms;
    while (this.lines.length === 0) {
      if (this.child.child.exitCode !== null || this.child.child.signalCode !== null)
        throw new Error(`${this.child.name} exited: ${this.child.stderr().trim()}`);
      if (Date.now() > end)
        throw new Error(`${this.child.name}: no answer within ${ms} ms; stderr: ${this.child.stderr()}`);
      await new Promise<void>((r) => {
        this.wake = r;
        setTimeout(r, 200);
      });
    }
    return this.lines.shift() as string;
  }

  async request<T>(req: object, ms: number): Promise<T> {
    this.child.child.stdin?.write(`${JSON.stringify(req)}\n`);
    return JSON.parse(await this.next(ms)) as T;
  }

  /** Our worker's V8 heap after a full GC, MiB. */
  async heapMiB(): Promise<number> {
    return (await this.request<{ heapUsed: number }>({ mem: true }, 30_000)).heapUsed / 2 ** 20;
  }

  async stop(): Promise<void> {
    this.child.child.stdin?.end();
    try {
      await this.child.exited(10_000);
    } catch {
      await this.child.stop();
    }
  }
}

/**
 * Starts a worker against dtm `dtm`; resolves once it has said "ready" (dtm resolved, channel open). The Connect
 * and the bare grpc-js worker get dtm's address, resolved here once (neither has an etcd resolver); their CPU
 * profiles go to DIR/connect and DIR/bare.
 */
export async function startWorker(
  lang: WorkerKind,
  dtm: string,
  opts: { cpuProf?: string | undefined; gid?: GidSource; nodeOptions?: string[] } = {},
): Promise<Worker> {
  const { cpuProf, gid = 'local', nodeOptions = [] } = opts;
  // Our workers: a node process with --expose-gc (the heap after a full GC) and --app-node-options, profiled into
  // DIR/app, DIR/connect or DIR/bare.
  const node = (name: string, file: string, profDir: string, args: string[]): Proc =>
    start(
      name,
      process.execPath,
      [
        '--expose-gc',
        ...nodeOptions,
        ...(cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${cpuProf}/${profDir}`] : []),
        join(import.meta.dirname, file),
        ...args,
      ],
      { keep: LOG_KEEP },
    );
  const child =
    lang === 'connect'
      ? node('connect app (bench worker)', 'worker-connect.ts', 'connect', ['--dtm-addr', await dtmAddress(dtm)])
      : lang === 'bare'
        ? node('bare grpc-js app (bench worker)', 'worker-bare.ts', 'bare', ['--dtm-addr', await dtmAddress(dtm)])
        : lang === 'ts'
          ? node('ts app (bench worker)', 'worker.ts', 'app', ['--dtm', dtm, '--gid', gid])
          : start('go app (bench worker)', join(bin, 'go-app'), ['-bench-worker', '-dtm', dtm], { keep: LOG_KEEP });
  const w = new Worker(child, lang);
  const first = await w.next(30_000);
  if (first !== 'ready') throw new Error(`${child.name}: expected "ready", got ${first}`);
  return w;
}

/** dtm's gRPC host:port behind its target (etcd://…/dtmservice, or a plain host:port): the first one registered. */
async function dtmAddress(dtm: string): Promise<string> {
  const [addr] = await resolveTarget(dtm, 15_000);
  return addr as string;
}
