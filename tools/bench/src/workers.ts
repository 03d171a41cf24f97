// The bench's side of the load generators: a long-lived process per language, asked for one level at a time over
// stdin/stdout (protocol.ts), every answer awaited with a deadline.
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { bin, type Proc, start } from '@dtm-gozero/devkit';
import type { GidSource } from './protocol.ts';
import { LOG_KEEP } from './trans.ts';

/** A load generator speaking protocol.ts's line protocol (our worker.ts, or `go-app -bench-worker`). */
export class Worker {
  readonly child: Proc;
  readonly lang: 'ts' | 'go';
  private readonly lines: string[] = [];
  private wake: (() => void) | undefined;

  constructor(child: Proc, lang: 'ts' | 'go') {
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

/** Starts a worker against dtm `dtm`; resolves once it has said "ready" (dtm resolved, channel open). */
export async function startWorker(
  lang: 'ts' | 'go',
  dtm: string,
  cpuProf: string | undefined,
  gid: GidSource = 'local',
): Promise<Worker> {
  const child =
    lang === 'ts'
      ? start(
          'ts app (bench worker)',
          process.execPath,
          [
            '--expose-gc',
            ...(cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${cpuProf}/app`] : []),
            join(import.meta.dirname, 'worker.ts'),
            '--dtm',
            dtm,
            '--gid',
            gid,
          ],
          { keep: LOG_KEEP },
        )
      : start('go app (bench worker)', join(bin, 'go-app'), ['-bench-worker', '-dtm', dtm], { keep: LOG_KEEP });
  const w = new Worker(child, lang);
  const first = await w.next(30_000);
  if (first !== 'ready') throw new Error(`${child.name}: expected "ready", got ${first}`);
  return w;
}
