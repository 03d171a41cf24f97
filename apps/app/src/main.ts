// Port of gozero/app/main.go: submits a 2-phase message and a TCC global transaction through dtm.
// `npm run app -- <mode> [--fail]` runs one mode instead: msg, tcc, saga, xa, msg-db, workflow.
// Prints one line per global transaction: `<mode> <gid> <final status>`.
// The bank: `npm run app -- transfer --from 1 --to 2 --amount 30 --mode saga|tcc|msg|xa|workflow`, `npm run app -- balances`.
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type Bank, openBank } from '@dtm-gozero/bank';
import { closeConnections, DtmFailure, genGid } from '@dtm-gozero/dtmgrpc';
import {
  buildTarget,
  clientConfFrom,
  closeEtcdClients,
  confValue,
  inSpan,
  observabilityFrom,
  ResolveError,
  readYaml,
  resolveTarget,
  startAgent,
  stopAgent,
  useEtcdConf,
} from '@dtm-gozero/gozero';
import { MODES, type Mode, type ModeContext, msg, msgDb, saga, seed, tcc, workflow, xa } from './modes.ts';
import { bankSource, finalStatus, OutcomeUnknown, requireBank } from './status.ts';
import { parseTransfer, refusal, TRANSFER_MODES, transfer } from './transfer.ts';
import { stopAppWorkflows } from './workflow.ts';

// dtm registers itself in etcd under the key dtmservice (MicroService.Target in dtm's config), so it is found
// the same way as any go-zero service. `--dtm localhost:36790` (or DTM_TARGET) connects directly instead.
const DEFAULT_DTM = 'etcd://localhost:2379/dtmservice';
const DEFAULT_DTM_HTTP = 'http://localhost:36789';
// The bank's database is read from trans's own YAML, so the app's local transaction (msg mode) and trans's
// back-check can never look at two different databases.
const DEFAULT_BANK = 'apps/trans/etc/bank.yaml';

const USAGE =
  `usage: npm run app -- [${MODES.join('|')}] [--fail] [-f etc/config.yaml] [--dtm <target>] [--dtm-http <url>]\n` +
  `       npm run app -- transfer --from <id> --to <id> --amount <cents> [--mode ${TRANSFER_MODES.join('|')}] [--bank ${DEFAULT_BANK}]\n` +
  `       npm run app -- balances [--bank ${DEFAULT_BANK}]`;

const HELP = `${USAGE}

Without a mode: the Go example's 2-phase message and TCC. With one: that mode's global transaction.
  --fail             run the mode's rollback path (trans is asked to answer FAILURE)
  -f <file>          the YAML config; a relative path is taken from the directory you run the command in
                     (default: apps/app/etc/config.yaml)
  --bank <file>      trans's YAML naming the bank's database, relative like -f (default: ${DEFAULT_BANK})
  --dtm <target>     dtm's gRPC target (default ${DEFAULT_DTM}, or DTM_TARGET); localhost:36790 dials it directly
  --dtm-http <url>   dtm's HTTP API, where the final status is read (default ${DEFAULT_DTM_HTTP}, or DTM_HTTP);
                     a cluster's instances comma-separated, tried in turn
Prints one line per global transaction: <mode> <gid> <final status>.
Exit status: 0 when every transaction ended as expected (a transfer: the money moved), 1 when one did not or the
input is bad (the message says what dtm keeps), 3 when dtm told neither way (its HTTP API and gRPC answer failed).`;

/**
 * A file named on the command line, as the user means it: the default is the repo's own file wherever the command
 * runs; a relative path is taken from where the user typed the command. npm runs scripts from the package's folder,
 * so when npm started this very script that is npm's INIT_CWD.
 */
function userFile(f: string | undefined, repoDefault: string): string {
  if (f === undefined) return join(import.meta.dirname, '..', '..', '..', repoDefault);
  const { INIT_CWD, npm_lifecycle_script } = process.env;
  const byNpm = npm_lifecycle_script?.includes('main.ts') === true;
  return resolve((byNpm && INIT_CWD) || process.cwd(), f);
}

/** The app's YAML; a database in it is refused: the bank is named once, in trans's YAML (--bank). */
function appYaml(file: string): Record<string, unknown> {
  const doc = readYaml(file);
  for (const key of ['Mysql', 'Postgres']) {
    if (confValue(doc, key) !== undefined) {
      throw new Error(
        `config ${file} has a ${key} section; the app uses the bank's database from trans's YAML (--bank, default ` +
          `${DEFAULT_BANK}), so that its local transaction and trans's back-check read one database; remove it`,
      );
    }
  }
  return doc;
}

/** Opens the bank named by trans's YAML and creates its tables if needed (as trans does at start). */
async function openBankOf(file: string): Promise<Bank> {
  const bank = openBank(bankSource(file, DEFAULT_BANK));
  try {
    await bank.migrate();
  } catch (err) {
    await bank.close().catch(() => undefined);
    throw err;
  }
  return bank;
}

async function printBalances(bank: Bank): Promise<void> {
  let total = 0n;
  for (const [user, balance] of await bank.balances()) {
    console.log(`${user} ${balance}`);
    total += balance;
  }
  console.log(`total ${total}`);
}

/**
 * trans's target from the YAML (go-zero v1.4's BuildTarget), after registering the YAML's etcd account and TLS
 * files, as zrpc.NewClient does. Like go-zero, the account belongs to those hosts only: a --dtm etcd target
 * naming other hosts gets no user or password (they would be sent to whatever server --dtm names).
 */
function busiTargetOf(doc: Record<string, unknown>, file: string): string {
  const conf = clientConfFrom(doc, file);
  if (conf.Etcd) useEtcdConf(conf.Etcd);
  return buildTarget(conf);
}

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
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      f: { type: 'string', short: 'f' },
      help: { type: 'boolean', short: 'h', default: false },
      dtm: { type: 'string', default: process.env.DTM_TARGET || DEFAULT_DTM },
      'dtm-http': { type: 'string', default: process.env.DTM_HTTP || DEFAULT_DTM_HTTP },
      fail: { type: 'boolean', default: false },
      bank: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      amount: { type: 'string' },
      mode: { type: 'string' },
    },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const configFile = userFile(values.f, 'apps/app/etc/config.yaml');
  const bankFile = userFile(values.bank, DEFAULT_BANK);
  const command = positionals[0];
  const transferFlags = ['from', 'to', 'amount', 'mode'].filter((k) => values[k as 'from'] !== undefined);
  if (command !== 'transfer' && transferFlags.length > 0) {
    throw new Error(`--${transferFlags[0]} belongs to the transfer command; ${USAGE}`);
  }
  if (command === 'balances' || command === 'transfer') {
    if (positionals.length > 1) throw new Error(`unexpected argument "${positionals[1]}"; ${USAGE}`);
    if (values.fail) throw new Error(`--fail is for the example modes; ${USAGE}`);
    // Checked before anything is contacted: bad flags never reach dtm or the database.
    const t = command === 'transfer' ? parseTransfer(values) : undefined;
    const bank = await openBankOf(bankFile);
    try {
      if (t === undefined) return await printBalances(bank);
      const known = await bank.balances();
      for (const id of [t.from, t.to]) {
        if (!known.has(id))
          throw new Error(`account ${id} does not exist; see the accounts with npm run app -- balances`);
      }
      const file = configFile;
      const dtm = values.dtm as string;
      const busiServer = busiTargetOf(appYaml(file), file);
      await findOrExplain('dtm', dtm, 'start dtm with `npm run stack:up`, or pass --dtm <target>');
      await findOrExplain('trans', busiServer, 'start trans with `npm run trans -- -f apps/trans/etc/bank.yaml`');
      await requireBank(busiServer);
      const gid = await genGid(dtm);
      let failure: unknown;
      let answered: 'succeed' | 'failed' | undefined;
      await transfer({ dtm, busiServer, bank }, gid, t).then(
        () => {
          answered = 'succeed';
        },
        (err: unknown) => {
          failure = err;
          if (err instanceof DtmFailure) answered = 'failed';
        },
      );
      // dtm has the last word: a Submit whose answer was lost may still have succeeded.
      const status = await finalStatus(values['dtm-http'] as string, gid, answered, 3000);
      console.log(`transfer ${t.mode} ${gid} ${status}`);
      if (status !== 'succeed') {
        const why = failure === undefined ? `dtm says ${status}` : refusal(failure);
        const later =
          status === 'succeed' || status === 'failed'
            ? ''
            : `; dtm keeps it (${status}) and finishes it once trans answers again — no money is lost`;
        throw new Error(`transfer ${gid} not done: ${why}${later}`);
      }
      return;
    } finally {
      await bank.close();
    }
  }
  const mode = positionals[0] as Mode | undefined;
  if (positionals.length > 1 || (mode !== undefined && !MODES.includes(mode))) {
    throw new Error(`unknown mode "${positionals.join(' ')}"; ${USAGE}`);
  }
  if (values.fail && mode === undefined) throw new Error(`--fail needs a mode; ${USAGE}`);

  const file = configFile;
  // trans's target as go-zero v1.4 builds it from etc/config.yaml: etcd://127.0.0.1:2379/trans.
  const doc = appYaml(file);
  const busiServer = busiTargetOf(doc, file);
  // go-zero's Telemetry key: each global transaction runs in a span `app <mode>`, which its branches join.
  const { Telemetry } = observabilityFrom(doc, file, 'app');
  if (Telemetry) startAgent(Telemetry);
  const ctx: ModeContext = {
    dtm: values.dtm as string,
    busiServer,
    fail: values.fail as boolean,
    bankFile,
  };

  // Fail fast, with the reason, when dtm or trans cannot be found (the Go client would block instead).
  await findOrExplain('dtm', ctx.dtm, 'start dtm with `npm run stack:up`, or pass --dtm <target>');
  await findOrExplain('trans', busiServer, 'start trans with `npm run trans`, or check Etcd.Key in the config');

  // msg-db debits user 1 in the app's own transaction: a trans that only logs must be refused before that.
  if (mode === 'msg-db' && !ctx.fail) await requireBank(busiServer);

  const runs: [string, string, boolean][] = [];
  if (mode === undefined) {
    const gids = await inSpan('app seed', () => seed(ctx));
    runs.push(['msg', gids.msg, false], ['tcc', gids.tcc, false]);
  } else {
    const run = { msg, tcc, saga, xa, 'msg-db': msgDb, workflow }[mode];
    runs.push([mode, await inSpan(`app ${mode}`, () => run(ctx)), ctx.fail]);
  }

  let unexpected = false;
  for (const [name, gid, fail] of runs) {
    // With waitResult an OK Submit already means `succeed` (and an expected FAILURE `failed`); dtm's HTTP API
    // confirms it, and when it does not answer, that answer is what is printed.
    const status = await finalStatus(values['dtm-http'] as string, gid, fail ? 'failed' : 'succeed');
    console.log(`${name} ${gid} ${status}`);
    if (status !== (fail ? 'failed' : 'succeed')) unexpected = true;
  }
  if (unexpected) throw new Error("a global transaction did not end as expected; see dtm.log and trans's output");
}

main()
  .then(async () => {
    void stopAppWorkflows();
    await stopAgent(); // sends the spans still batched (bounded)
    closeConnections();
    closeEtcdClients();
  })
  .catch(async (err: unknown) => {
    let m = err instanceof Error ? err.message : String(err);
    // The same hint trans gives: in this repo etcd comes from the stack scripts.
    if (/\betcd at \S+ is unreachable/.test(m)) m += ' (in this repo: `npm run stack:up` starts etcd and dtm)';
    console.error(`app: ${m}`);
    void stopAppWorkflows();
    await stopAgent();
    closeConnections();
    closeEtcdClients();
    // 3: dtm did not tell how the transaction ended, so the app cannot say whether money moved.
    process.exit(err instanceof OutcomeUnknown ? 3 : 1);
  });
