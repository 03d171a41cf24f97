// `npm run bench`'s command line: the options, their defaults, and a UsageError (exit status 2) that names the bad
// value and what is wanted, before anything is started.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type BenchMode, GID_SOURCES, type GidSource, MODES } from './protocol.ts';
import { TRANS_SOURCES, type TransSource } from './trans.ts';

const USAGE = `usage: npm run bench -- [--compare] [--levels 1,16,64] [--duration S] [--rounds N] [--mode msg|tcc|saga|xa]
       [--store boltdb|redis|mysql] [--out FILE.json] [--soak S] [--cpu-prof DIR] [--gid local|dtm]
       [--trans dist|src] [--trans-node-options="FLAGS"] [--app-node-options="FLAGS"] [--client grpc-js|connect]
       [--etcd HOST:PORT --dtm TARGET [--dtm-http URL]]   (a running stack instead of one of its own)
       npm run bench -- --render FILE.json  (its chart and table again)
--mode xa runs our stack only (the Go twins have no XA branches), with a MariaDB of its own for trans's bank.
--compare's headline is like for like (our app calls NewGid + Submit, as the Go app); a second row, labelled
localGid, shows our app taking its gids locally (Submit only). --gid is for runs without --compare.
--trans dist (the default) runs our trans as production does (npm run build, then dist/ with PROD_NODE_ARGS);
--trans src runs its TypeScript sources; --trans-node-options adds Node/V8 flags to it (e.g. for an A/B of sizing);
--app-node-options adds them to our app (the grpc-js and the Connect worker).
--client connect drives our trans with the same calls (NewGid + msg Submit) through Connect's gRPC transport
(@connectrpc/connect-node) instead of our client on grpc-js: msg only; --compare runs it as a labelled extra row.`;
export const CLIENTS = ['grpc-js', 'connect'] as const;
/** Our app's gRPC stack: our client (@dtm-gozero/dtmgrpc on grpc-js), or the same calls on Connect (worker-connect.ts). */
export type ClientStack = (typeof CLIENTS)[number];
export const STORES = ['boltdb', 'redis', 'mysql'] as const;
export type Store = (typeof STORES)[number];

/** Bad input on the command line (or --help): the message ends with the usage; the command exits with status 2. */
export class UsageError extends Error {}

export interface BenchOptions {
  compare: boolean;
  levels: number[];
  durationS: number;
  rounds: number;
  mode: BenchMode;
  store: Store;
  out: string;
  soakS: number;
  cpuProf: string | undefined;
  /**
   * Where our app takes each gid without --compare: made locally (one call to dtm per msg) or from dtm's NewGid (two,
   * as Go's). --compare runs both: NewGid for the headline, localGid as a row of its own.
   */
  gid: GidSource;
  /** Our app's gRPC stack without --compare (--compare runs both: grpc-js as the headline, Connect as a row). */
  client: ClientStack;
  /** Our trans from dist/ (as production) or from its sources. */
  trans: TransSource;
  /** More Node/V8 flags for our trans. */
  transNodeOptions: string[];
  /** More Node/V8 flags for our app (its grpc-js and Connect workers). */
  appNodeOptions: string[];
  etcd: string[] | undefined;
  dtm: string | undefined;
  /** dtm's HTTP API of a running stack (to ask what became of transactions that reported an error). */
  dtmHttp: string | undefined;
}

export function parseOptions(argv: string[]): BenchOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        compare: { type: 'boolean', default: false },
        levels: { type: 'string', default: '1,16,64' },
        duration: { type: 'string', default: '6' },
        rounds: { type: 'string' },
        mode: { type: 'string', default: 'msg' },
        store: { type: 'string', default: 'boltdb' },
        out: { type: 'string', default: '.cache/bench/bench.json' },
        soak: { type: 'string', default: '0' },
        'cpu-prof': { type: 'string' },
        gid: { type: 'string' },
        trans: { type: 'string', default: 'dist' },
        'trans-node-options': { type: 'string', default: '' },
        'app-node-options': { type: 'string', default: '' },
        client: { type: 'string' },
        etcd: { type: 'string' },
        dtm: { type: 'string' },
        'dtm-http': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${USAGE}`);
  }
  if (values.help) throw new UsageError(USAGE);
  const num = (flag: string, v: string, min: number): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) throw new UsageError(`--${flag} ${v}: want a number ≥ ${min}\n${USAGE}`);
    return n;
  };
  const levels = String(values.levels)
    .split(',')
    .map((s) => num('levels', s.trim(), 1))
    .map(Math.round);
  const mode = values.mode as BenchMode;
  if (!MODES.includes(mode)) throw new UsageError(`--mode ${mode}: want one of ${MODES.join(', ')}\n${USAGE}`);
  if (mode === 'xa' && values.compare)
    throw new UsageError(
      `--compare --mode xa: the Go twins (interop/gozero) have no XA branches, so there is nothing to compare; run --mode xa without --compare\n${USAGE}`,
    );
  const store = values.store as Store;
  if (!STORES.includes(store)) throw new UsageError(`--store ${store}: want one of ${STORES.join(', ')}\n${USAGE}`);
  const compare = values.compare as boolean;
  if (compare && values.gid !== undefined)
    throw new UsageError(
      `--compare --gid ${values.gid}: --compare runs both (NewGid + Submit as its headline, localGid as a labelled row); drop --gid\n${USAGE}`,
    );
  const client = (values.client ?? 'grpc-js') as ClientStack;
  if (!CLIENTS.includes(client)) throw new UsageError(`--client ${client}: want grpc-js or connect\n${USAGE}`);
  if (compare && values.client !== undefined)
    throw new UsageError(
      `--compare --client ${client}: --compare runs both (grpc-js as its headline, Connect as a labelled row); drop --client\n${USAGE}`,
    );
  if (client === 'connect' && mode !== 'msg')
    throw new UsageError(`--client connect --mode ${mode}: the Connect client makes msg transactions only\n${USAGE}`);
  if (client === 'connect' && values.gid === 'local')
    throw new UsageError(
      `--client connect --gid local: the Connect client takes its gids from dtm's NewGid (as the like-for-like row); drop --gid\n${USAGE}`,
    );
  const gid = (values.gid ?? (client === 'connect' ? 'dtm' : 'local')) as GidSource;
  if (!GID_SOURCES.includes(gid)) throw new UsageError(`--gid ${gid}: want local or dtm\n${USAGE}`);
  const trans = values.trans as TransSource;
  if (!TRANS_SOURCES.includes(trans)) throw new UsageError(`--trans ${trans}: want dist or src\n${USAGE}`);
  if (Boolean(values.etcd) !== Boolean(values.dtm))
    throw new UsageError(`--etcd and --dtm go together (a running stack: its etcd and dtm's target)\n${USAGE}`);
  return {
    compare,
    levels,
    durationS: num('duration', String(values.duration), 0.5),
    rounds: Math.round(num('rounds', String(values.rounds ?? (compare ? 2 : 1)), 1)),
    mode,
    store,
    out: resolve(String(values.out)),
    soakS: num('soak', String(values.soak), 0),
    cpuProf: values['cpu-prof'] ? resolve(String(values['cpu-prof'])) : undefined,
    gid: compare ? 'dtm' : gid,
    client,
    trans,
    transNodeOptions: String(values['trans-node-options']).split(/\s+/).filter(Boolean),
    appNodeOptions: String(values['app-node-options']).split(/\s+/).filter(Boolean),
    etcd: values.etcd ? String(values.etcd).split(',') : undefined,
    dtm: values.dtm ? String(values.dtm) : undefined,
    dtmHttp: values['dtm-http'] ? String(values['dtm-http']) : undefined,
  };
}
