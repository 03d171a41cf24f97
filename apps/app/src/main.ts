// Port of gozero/app/main.go: submits a 2-phase message and a TCC global transaction through dtm.
// `npm run app -- <mode> [--fail]` runs one mode instead: msg, tcc, saga, xa, msg-db.
// Prints one line per global transaction: `<mode> <gid> <final status>`.
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { closeConnections } from '@dtm-gozero/dtmgrpc';
import {
  buildTarget,
  clientConfFrom,
  closeEtcdClients,
  ResolveError,
  readYaml,
  resolveTarget,
} from '@dtm-gozero/gozero';
import { MODES, type Mode, type ModeContext, msg, msgDb, saga, seed, tcc, xa } from './modes.ts';
import { queryFinalStatus } from './status.ts';

// dtm registers itself in etcd under the key dtmservice (MicroService.Target in dtm's config), so it is found
// the same way as any go-zero service. `--dtm localhost:36790` (or DTM_TARGET) connects directly instead.
const DEFAULT_DTM = 'etcd://localhost:2379/dtmservice';
const DEFAULT_DTM_HTTP = 'http://localhost:36789';
const DEFAULT_MYSQL = 'mysql://root:dtm-test@127.0.0.1:3306/dtm_busi';

const USAGE = `usage: npm run app -- [${MODES.join('|')}] [--fail] [-f etc/config.yaml] [--dtm <target>] [--dtm-http <url>]`;

const HELP = `${USAGE}

Without a mode: the Go example's 2-phase message and TCC. With one: that mode's global transaction.
  --fail             run the mode's rollback path (trans is asked to answer FAILURE)
  -f <file>          the YAML config; a relative path is taken from the directory you run the command in
                     (default: apps/app/etc/config.yaml)
  --dtm <target>     dtm's gRPC target (default ${DEFAULT_DTM}, or DTM_TARGET); localhost:36790 dials it directly
  --dtm-http <url>   dtm's HTTP API, where the final status is read (default ${DEFAULT_DTM_HTTP}, or DTM_HTTP)
Prints one line per global transaction: <mode> <gid> <final status>.`;

/**
 * The config file as the user means it: the default is the app's own etc/config.yaml wherever the command runs; a
 * relative -f is taken from where the user typed the command. npm runs scripts from the package's folder, so when
 * npm started this very script that is npm's INIT_CWD.
 */
function configFile(f: string | undefined): string {
  if (f === undefined) return join(import.meta.dirname, '..', 'etc', 'config.yaml');
  const { INIT_CWD, npm_lifecycle_script } = process.env;
  const byNpm = npm_lifecycle_script?.includes('main.ts') === true;
  return resolve((byNpm && INIT_CWD) || process.cwd(), f);
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
    },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const mode = positionals[0] as Mode | undefined;
  if (positionals.length > 1 || (mode !== undefined && !MODES.includes(mode))) {
    throw new Error(`unknown mode "${positionals.join(' ')}"; ${USAGE}`);
  }
  if (values.fail && mode === undefined) throw new Error(`--fail needs a mode; ${USAGE}`);

  const file = configFile(values.f);
  // trans's target as go-zero v1.4 builds it from etc/config.yaml: etcd://127.0.0.1:2379/trans.
  const doc = readYaml(file);
  const busiServer = buildTarget(clientConfFrom(doc, file));
  const mysqlConf = doc.Mysql as { DataSource?: string } | undefined;
  const ctx: ModeContext = {
    dtm: values.dtm as string,
    busiServer,
    fail: values.fail as boolean,
    mysql: mysqlConf?.DataSource ?? DEFAULT_MYSQL,
  };

  // Fail fast, with the reason, when dtm or trans cannot be found (the Go client would block instead).
  await findOrExplain('dtm', ctx.dtm, 'start dtm with `npm run stack:up`, or pass --dtm <target>');
  await findOrExplain('trans', busiServer, 'start trans with `npm run trans`, or check Etcd.Key in the config');

  const runs: [string, string, boolean][] = [];
  if (mode === undefined) {
    const gids = await seed(ctx);
    runs.push(['msg', gids.msg, false], ['tcc', gids.tcc, false]);
  } else {
    const run = { msg, tcc, saga, xa, 'msg-db': msgDb }[mode];
    runs.push([mode, await run(ctx), ctx.fail]);
  }

  let unexpected = false;
  for (const [name, gid, fail] of runs) {
    // With waitResult an OK Submit already means `succeed`; dtm's HTTP API confirms it and tells the
    // final status of a rolled-back transaction.
    const status = await queryFinalStatus(values['dtm-http'] as string, gid);
    console.log(`${name} ${gid} ${status}`);
    if (status !== (fail ? 'failed' : 'succeed')) unexpected = true;
  }
  if (unexpected) throw new Error("a global transaction did not end as expected; see dtm.log and trans's output");
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
