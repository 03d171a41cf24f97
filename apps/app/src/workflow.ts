// The app's workflows (`npm run app -- workflow [--fail]`, and `transfer --mode workflow`): a WorkflowRegistry and
// the gRPC server dtm calls back to resume an unfinished one. The server listens on 127.0.0.1 on a free port for as
// long as the app runs; a long-lived service would listen on a fixed address (or register it in etcd) instead, so
// that dtm can resume its workflows after a restart.
import { WorkflowRegistry } from '@dtm-gozero/dtmgrpc';
import { AdjustInfo, TransSvcService as Svc } from '@dtm-gozero/proto/trans';
import { Server, ServerCredentials } from '@grpc/grpc-js';

/**
 * The example's workflow: a saga step (TransOut, rolled back by TransOutRevert), a TCC step (TransIn, confirmed by
 * TransInConfirm, cancelled by TransInRevert) and a local step.
 */
export const EXAMPLE_WORKFLOW = 'app-example';
/** A bank transfer: TransOut from one account, then TransIn to the other; a refusal rolls the debit back. */
export const TRANSFER_WORKFLOW = 'bank-transfer';

/**
 * A transfer as the workflow stores it in dtm (JSON: the bigints as strings). Any integer round-trips, negative ones
 * too: the bank, not this encoding, refuses a bad amount or account (a FAILURE that rolls the workflow back), as in
 * every other mode — an amount written here that did not read back stopped the workflow before dtm ever saw it.
 */
export interface TransferData {
  from: bigint;
  to: bigint;
  amount: bigint;
}

const transferData = {
  encode: (t: TransferData) => {
    const bytes = Buffer.from(JSON.stringify({ from: `${t.from}`, to: `${t.to}`, amount: `${t.amount}` }));
    return { finish: () => bytes };
  },
  decode: (b: Uint8Array): TransferData => {
    const v = JSON.parse(Buffer.from(b).toString()) as Record<string, unknown>;
    const n = (k: string): bigint => {
      if (typeof v[k] !== 'string' || !/^-?[0-9]+$/.test(v[k])) throw new Error(`field ${k} is not a whole number`);
      return BigInt(v[k]);
    };
    return { from: n('from'), to: n('to'), amount: n('amount') };
  },
};

interface Running {
  registry: WorkflowRegistry;
  server: Server;
}
// The registries of this process, one per (dtm, trans) pair, as promises: concurrent transfers (the chaos suite runs
// 8 at once) must share the server that the first of them starts, not each start one that nothing would stop. The
// handlers close over trans's address, so a transfer to another trans (a test's second bank) gets its own registry
// and callback server, through which dtm resumes that one's workflows.
const running = new Map<string, Promise<Running>>();

/** The registry of this process for dtm `dtm` and trans at `busiServer`, its callback server started on first use. */
export async function appWorkflows(dtm: string, busiServer: string): Promise<WorkflowRegistry> {
  const key = `${dtm}\n${busiServer}`;
  let started = running.get(key);
  if (!started) {
    started = startRegistry(dtm, busiServer);
    running.set(key, started);
    // a start that failed (no free port) is not kept: the next transfer tries again
    started.catch(() => running.delete(key));
  }
  return (await started).registry;
}

async function startRegistry(dtm: string, busiServer: string): Promise<Running> {
  const server = new Server();
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  const registry = new WorkflowRegistry(dtm, `127.0.0.1:${port}`);
  register(registry, busiServer);
  registry.addTo(server);
  return { registry, server };
}

/** Stops the callback servers (the CLI's last step, so that the process can exit). */
export async function stopAppWorkflows(): Promise<void> {
  const all = [...running.values()];
  running.clear();
  for (const r of await Promise.all(all.map((p) => p.catch(() => undefined)))) r?.server.forceShutdown();
}

function register(registry: WorkflowRegistry, s: string): void {
  registry.register(
    EXAMPLE_WORKFLOW,
    async (wf, req) => {
      const out = { Amount: req.Amount, UserID: req.UserID };
      const in_ = { Amount: req.Amount, UserID: req.UserID + 1n };
      // saga step: the action now, the compensation if the workflow rolls back
      wf.newBranch().onRollback(() => wf.callBranch(s, Svc.transOutRevert, out));
      await wf.callBranch(s, Svc.transOut, out);
      // TCC step: the try now, confirm when the workflow succeeds, cancel when it rolls back
      wf.newBranch()
        .onCommit(() => wf.callBranch(s, Svc.transInConfirm, in_))
        .onRollback(() => wf.callBranch(s, Svc.transInRevert, in_));
      await wf.callBranch(s, Svc.transIn, in_);
      // local step: recorded in dtm, so a resumed run returns its result instead of running it again
      return wf.newBranch().do(async () => Buffer.from(`moved ${req.Amount} cents`));
    },
    undefined,
    AdjustInfo,
  );
  registry.register(
    TRANSFER_WORKFLOW,
    async (wf, t) => {
      const out = { Amount: t.amount, UserID: t.from };
      const in_ = { Amount: t.amount, UserID: t.to };
      wf.newBranch().onRollback(() => wf.callBranch(s, Svc.transOutRevert, out));
      await wf.callBranch(s, Svc.transOut, out);
      wf.newBranch().onRollback(() => wf.callBranch(s, Svc.transInRevert, in_));
      await wf.callBranch(s, Svc.transIn, in_);
    },
    undefined,
    transferData,
  );
}
