// TransSvc instances that say who answered, a load loop that counts failures, and a cuttable TCP proxy:
// what the discovery tests (resolver, resilience, auth/TLS) share.
import { connect, createServer, type Server as NetServer, type Socket } from 'node:net';
import { type EtcdConf, RpcServer } from '@dtm-gozero/gozero';
import { TransSvcService } from '@dtm-gozero/proto/trans';
import { type Client, Metadata, type ServerUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import { GOZERO_INSTANCE } from './fixtures.ts';
import { type Proc, root, runNode } from './procs.ts';

/** Answers every TransSvc call with initial metadata `x-instance: <name>`, after `delayMs`. */
export function instance(
  name: string,
  port: number,
  etcd: EtcdConf | undefined,
  opts: { ttlSeconds?: number; delayMs?: number; timeoutMs?: number; mode?: string; host?: string } = {},
): RpcServer {
  const handler = (call: ServerUnaryCall<unknown, unknown>, cb: sendUnaryData<unknown>): void => {
    const md = new Metadata();
    md.set('x-instance', name);
    call.sendMetadata(md);
    if (opts.delayMs) setTimeout(() => cb(null, {}), opts.delayMs);
    else cb(null, {});
  };
  const conf = {
    Name: name,
    ListenOn: `${opts.host ?? '127.0.0.1'}:${port}`,
    Mode: opts.mode ?? 'pro',
    Timeout: opts.timeoutMs ?? 2000,
    // go-zero's per-request stat line is info: the load loops of these tests would print thousands
    Log: { Level: 'error' as const },
  };
  return new RpcServer(
    etcd ? { ...conf, Etcd: etcd } : conf,
    (s) => s.addService(TransSvcService, { transIn: handler, transOut: handler }),
    {
      ttlSeconds: opts.ttlSeconds,
    },
  );
}

/** One TransOut call; resolves with the name of the instance that answered. */
export function callOnce(client: Client, deadlineMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    let who = '';
    const call = client.makeUnaryRequest(
      TransSvcService.transOut.path,
      TransSvcService.transOut.requestSerialize,
      TransSvcService.transOut.responseDeserialize,
      { Amount: 1n, UserID: 1n },
      { deadline: Date.now() + deadlineMs },
      (err) => (err ? reject(err) : resolve(who)),
    );
    call.on('metadata', (md: Metadata) => {
      who = String(md.get('x-instance')[0] ?? '');
    });
  });
}

export interface LoadResult {
  ok: number;
  failed: number;
  errors: string[];
  /** Instance names in call order (successful calls). */
  hits: string[];
}

/** Calls in a loop (`concurrency` callers, `intervalMs` apart each) until `stop()`; counts what happened. */
export function load(
  client: Client,
  concurrency = 2,
  intervalMs = 20,
): { stop(): Promise<LoadResult>; result: LoadResult } {
  const result: LoadResult = { ok: 0, failed: 0, errors: [], hits: [] };
  let running = true;
  const workers = Array.from({ length: concurrency }, async () => {
    while (running) {
      try {
        result.hits.push(await callOnce(client));
        result.ok++;
      } catch (err) {
        result.failed++;
        if (result.errors.length < 20) result.errors.push(`${new Date().toISOString()} ${(err as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  });
  return {
    result,
    stop: async () => {
      running = false;
      await Promise.all(workers);
      return result;
    },
  };
}

/** A TCP proxy to `target` whose connections the test can cut (and refuse) to disconnect a client from etcd. */
export async function cuttableProxy(
  targetPort: number,
): Promise<{ port: number; cut(): void; restore(): void; close(): void }> {
  const sockets = new Set<Socket>();
  let open = true;
  const server: NetServer = createServer((s) => {
    if (!open) {
      s.destroy();
      return;
    }
    const up = connect(targetPort, '127.0.0.1');
    sockets.add(s).add(up);
    s.pipe(up).pipe(s);
    const drop = (): void => {
      s.destroy();
      up.destroy();
      sockets.delete(s);
      sockets.delete(up);
    };
    s.on('error', drop).on('close', drop);
    up.on('error', drop).on('close', drop);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const cutAll = (): void => {
    for (const s of sockets) s.destroy();
    sockets.clear();
  };
  return {
    port: (server.address() as { port: number }).port,
    cut: () => {
      open = false;
      cutAll();
    },
    restore: () => {
      open = true;
    },
    close: () => {
      cutAll();
      server.close();
    },
  };
}

/** An instance in a child process (so that a test can `kill -9` it); resolves once it is registered. */
export async function spawnInstance(name: string, port: number, etcd: EtcdConf, ttlSeconds: number): Promise<Proc> {
  const p = runNode(GOZERO_INSTANCE, [name, String(port), JSON.stringify(etcd), String(ttlSeconds)], root);
  await p.waitFor(/^registered /m, 15_000);
  return p;
}
