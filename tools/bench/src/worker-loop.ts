// What every TypeScript load generator of `npm run bench` shares (worker.ts on grpc-js, worker-connect.ts on
// Connect): the level loop and the stdin/stdout line protocol (protocol.ts), around a client's own transaction.
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { fullGc, runtimeMonitor } from './probe.ts';
import type { BenchMode, GidSource, LevelRequest, LevelResult } from './protocol.ts';
import { validRequest } from './protocol.ts';

/** A client under measure: where its gids come from, and one global transaction of a mode (WaitResult). */
export interface BenchClient {
  gid(from: GidSource): Promise<string> | string;
  tx(mode: BenchMode, gid: string, busi: string, slot: number): Promise<void>;
}

async function runLevel(
  r: LevelRequest,
  client: BenchClient,
  gidFrom: GidSource,
  monitor: ReturnType<typeof runtimeMonitor>,
): Promise<LevelResult> {
  const res: LevelResult = { ok: 0, errors: 0, errorSamples: [], errorGids: [], latUs: [], elapsedMs: 0 };
  monitor.reset();
  const t0 = performance.now();
  const end = t0 + r.durationMs;
  const worker = async (_: unknown, slot: number): Promise<void> => {
    while (performance.now() < end) {
      const t = performance.now();
      let gid = '';
      try {
        const g = client.gid(gidFrom);
        gid = typeof g === 'string' ? g : await g; // a local gid costs no extra turn of the microtask queue
        await client.tx(r.mode, gid, r.busi, slot);
        res.ok++;
        res.latUs.push(Math.round((performance.now() - t) * 1000));
      } catch (err) {
        res.errors++;
        if (res.errorSamples.length < 5) res.errorSamples.push(err instanceof Error ? err.message : String(err));
        if (gid && res.errorGids.length < 5) res.errorGids.push(gid);
      }
    }
  };
  await Promise.all(Array.from({ length: r.concurrency }, worker));
  res.elapsedMs = performance.now() - t0;
  res.runtime = monitor.snapshot();
  return res;
}

/**
 * Prints "ready", then answers each stdin line (a level, or {"mem":true}: the heap after a full GC) until EOF.
 * `accepts` refuses a level this client cannot run (its message names why).
 */
export async function serve(
  client: BenchClient,
  gidFrom: GidSource,
  accepts: (r: LevelRequest) => string | undefined = () => undefined,
): Promise<void> {
  const monitor = runtimeMonitor();
  process.stdout.write('ready\n');
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    const r = JSON.parse(line) as Partial<LevelRequest> & { mem?: boolean };
    if (r.mem) {
      fullGc();
      const m = process.memoryUsage();
      process.stdout.write(`${JSON.stringify({ heapUsed: m.heapUsed, rss: m.rss })}\n`);
      continue;
    }
    if (!validRequest(r))
      throw new Error(`bad request ${line}: want {"mode":"msg","concurrency":16,"durationMs":5000,"busi":"<target>"}`);
    const refused = accepts(r);
    if (refused) throw new Error(`bad request ${line}: ${refused}`);
    process.stdout.write(`${JSON.stringify(await runLevel(r, client, r.gid ?? gidFrom, monitor))}\n`);
  }
}

/** `--dtm-addr host:port` of the msg-only workers (Connect, bare grpc-js), which dial dtm's resolved address. */
export function dtmAddrArg(): string {
  const { values } = parseArgs({ options: { 'dtm-addr': { type: 'string' } } });
  const addr = values['dtm-addr'];
  if (!addr || !/^[^/:]+:\d+$/.test(addr)) throw new Error(`--dtm-addr ${addr ?? ''}: want dtm's gRPC host:port`);
  return addr;
}

/**
 * serve() for a client that makes msg transactions with gids from dtm's NewGid only (the Connect and the bare
 * grpc-js worker): a level in another mode, or with local gids, is refused with a message naming `who`.
 */
export function serveMsgNewGid(who: string, newGid: () => Promise<string>, submit: BenchClient['tx']): Promise<void> {
  return serve({ gid: newGid, tx: submit }, 'dtm', (r) =>
    r.mode !== 'msg'
      ? `${who} makes msg transactions only (mode ${r.mode})`
      : r.gid === 'local'
        ? `${who} takes its gids from dtm's NewGid only (gid local)`
        : undefined,
  );
}
