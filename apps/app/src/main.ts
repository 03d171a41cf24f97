// Port of gozero/app/main.go: submits a 2-phase message and a TCC global transaction through dtm.
// Prints one line per global transaction: `<mode> <gid> <final status>`.
import { parseArgs } from 'node:util';
import { closeConnections, genGid, MsgGrpc, tccGlobalTransaction } from '@dtm-gozero/dtmgrpc';
import { buildTarget, closeEtcdClients, loadClientConf, ResolveError, resolveTarget } from '@dtm-gozero/gozero';
import { TransSvcService } from '@dtm-gozero/proto/trans';

// dtm registers itself in etcd under the key dtmservice (MicroService.Target in dtm's config), so it is found
// the same way as any go-zero service. `--dtm localhost:36790` (or DTM_TARGET) connects directly instead.
const DEFAULT_DTM = 'etcd://localhost:2379/dtmservice';

/** Resolves a target once, turning "not found" into a message that says what to start. */
async function findOrExplain(what: string, target: string, fix: string): Promise<void> {
  try {
    await resolveTarget(target);
  } catch (err) {
    const e = err as Error;
    const hint = err instanceof ResolveError && err.reason === 'not-registered' ? `; ${fix}` : '';
    throw new Error(`${what} not found: ${e.message}${hint}`, { cause: err });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      f: { type: 'string', short: 'f', default: 'etc/config.yaml' },
      dtm: { type: 'string', default: process.env.DTM_TARGET || DEFAULT_DTM },
    },
  });
  const dtmServer = values.dtm as string;
  // trans's target as go-zero v1.4 builds it from etc/config.yaml: etcd://127.0.0.1:2379/trans.
  const busiServer = buildTarget(loadClientConf(values.f as string));

  // Fail fast, with the reason, when dtm or trans cannot be found (the Go client would block instead).
  await findOrExplain('dtm', dtmServer, 'start dtm with `npm run stack:up`, or pass --dtm <target>');
  await findOrExplain('trans', busiServer, 'start trans with `npm run trans`, or check Etcd.Key in the config');

  const req1 = { Amount: 30, UserID: 1 };
  const req2 = { Amount: 30, UserID: 2 };

  // 2-phase message: dtm calls TransOut then TransIn. The branch is given as the generated method descriptor,
  // so the invoke path (/trans.TransSvc/TransOut) cannot be mistyped; the URL dtm stores is
  // busiServer + "/trans.TransSvc/TransOut", exactly what the Go example builds by hand.
  // waitResult makes Submit return after dtm has called both branches, so the message's two log lines always
  // come before the TCC's: the transcript does not depend on timing.
  const gid = await genGid(dtmServer);
  const msg = new MsgGrpc(dtmServer, gid)
    .add(busiServer, TransSvcService.transOut, req1)
    .add(busiServer, TransSvcService.transIn, req2);
  msg.options.waitResult = true;
  await msg.submit();
  console.log(`msg ${gid} succeed`);

  // TCC: the app calls the try itself, dtm then calls confirm (or cancel on abort). As in the Go original,
  // TransOut stands in for try, confirm and cancel; real confirm/cancel methods come with the full client.
  const tccGid = await genGid(dtmServer);
  await tccGlobalTransaction(
    dtmServer,
    tccGid,
    async (tcc) => {
      await tcc.callBranch(
        busiServer,
        { try: TransSvcService.transOut, confirm: TransSvcService.transOut, cancel: TransSvcService.transOut },
        req1,
      );
    },
    (tcc) => {
      // Submit returns after dtm has run the confirm: the fourth line is printed before the app exits.
      tcc.options.waitResult = true;
    },
  );
  // With waitResult an OK reply means dtm finished the pass with the transaction in status `succeed`.
  console.log(`tcc ${tccGid} succeed`);
}

main()
  .then(() => {
    closeConnections();
    closeEtcdClients();
  })
  .catch((err: unknown) => {
    console.error(`app: ${err instanceof Error ? err.message : String(err)}`);
    closeConnections();
    closeEtcdClients();
    process.exit(1);
  });
