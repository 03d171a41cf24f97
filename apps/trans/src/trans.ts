// Port of gozero/trans/trans.go: loads etc/trans.yaml, serves TransSvc (reflection in dev/test Mode, as goctl's
// template does), registers in etcd.
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { closeEtcdClients, logPrintf, RpcServer, ServerStartError } from '@dtm-gozero/gozero';
import { TransSvcService } from '@dtm-gozero/proto/trans';
import type { ReflectionService } from '@grpc/reflection';
import { loadConfig } from './internal/config/config.ts';
import { newTransSvcServer } from './internal/server/trans-svc-server.ts';
import { newServiceContext } from './internal/svc/service-context.ts';

const PROTO = join(import.meta.dirname, '..', '..', '..', 'proto', 'trans.proto');
// RpcServer.stop drains for go-zero's 5.5 s; this bounds the whole stop, deregistering (≤ 3 s) included.
const SHUTDOWN_WAIT_MS = 10_000;

async function reflectionService(): Promise<ReflectionService> {
  const [{ loadSync }, { ReflectionService }] = await Promise.all([
    import('@grpc/proto-loader'),
    import('@grpc/reflection'),
  ]);
  return new ReflectionService(loadSync(PROTO));
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { f: { type: 'string', short: 'f' } } });
  // Default: the service's own etc/trans.yaml; a relative -f is taken from where the user typed the command
  // (npm runs scripts from the package's folder; its INIT_CWD says where that was).
  const { INIT_CWD, npm_lifecycle_script } = process.env;
  const byNpm = /\btrans\.[jt]s\b/.test(npm_lifecycle_script ?? ''); // the sources, or dist/ (trans:prod)
  const file =
    values.f === undefined
      ? join(import.meta.dirname, '..', 'etc', 'trans.yaml')
      : resolve((byNpm && INIT_CWD) || process.cwd(), values.f);
  const c = loadConfig(file);
  const ctx = newServiceContext(c);
  // The bank creates its database, tables and barrier table before it serves (idempotent), and refuses to start
  // without its database rather than answer every branch with an error.
  if (c.Bank) await ctx.bank();

  // grpcurl and other tools list and call TransSvc through reflection; goctl's template enables it only in dev and
  // test Mode, so do we. Imported only then: @grpc/reflection and the parsed trans.proto cost memory in production.
  const reflection = c.Mode === 'dev' || c.Mode === 'test' ? await reflectionService() : undefined;
  const s = new RpcServer(c, (server) => {
    server.addService(TransSvcService, newTransSvcServer(ctx));
    reflection?.addToServer(server);
  });

  // The app asks this (grpc.health.v1, service "trans.Bank") before it moves money: a trans that only logs would
  // take a credit and drop it. 1 is SERVING; stop() turns it NOT_SERVING with the rest.
  if (c.Bank) s.health?.setServingStatus('trans.Bank', 1);

  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    const force = setTimeout(() => process.exit(1), SHUTDOWN_WAIT_MS).unref();
    s.stop()
      .catch((err: unknown) => console.error(`trans: deregistering failed: ${(err as Error).message}`))
      .finally(async () => {
        closeEtcdClients();
        await ctx.close().catch(() => undefined);
        clearTimeout(force);
        process.exit(0);
      });
  };
  // go-zero v1.4 revokes on SIGTERM only; we revoke on Ctrl-C too, so the key never lingers for the TTL.
  // Later signals are ignored while stopping (`npm start` may deliver both); the force timer bounds the wait.
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);

  try {
    await s.start();
  } catch (err) {
    // Not a ListenOn problem, so registering in etcd failed; in this repo etcd comes from the stack scripts.
    if (err instanceof ServerStartError && /^ListenOn /.test(err.message)) throw err;
    throw new Error(`${(err as Error).message} (in this repo: \`npm run stack:up\` starts etcd and dtm)`, {
      cause: err,
    });
  }
  console.log(`Starting rpc server at ${c.ListenOn}...`);
  if (c.Bank) logPrintf('the bank keeps its balances in %s', c.Store.shown);
}

main().catch((err: unknown) => {
  console.error(`trans: ${err instanceof Error ? err.message : String(err)}`);
  closeEtcdClients();
  process.exit(1);
});
