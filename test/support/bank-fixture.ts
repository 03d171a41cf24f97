// The bank for integration tests: a MariaDB of the test's own (free port, temp dir, nothing created in it), trans
// started with a YAML naming it in go-zero's DSN form, and raw gRPC calls to trans the way dtm makes them.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Bank, openBank, parseMysqlDataSource } from '@dtm-gozero/bank';
import { startOwnMariadb } from '@dtm-gozero/chaos/mariadb';
import { Service } from '@dtm-gozero/chaos/service';
import { freePort, type Proc, root, runNode, TRANS, tempFile } from '@dtm-gozero/devkit';
import { testStack } from '@dtm-gozero/devkit/stack';
import { type MysqlServer, portOpen } from '@dtm-gozero/testkit';
import { Client, credentials, Metadata, type ServiceError } from '@grpc/grpc-js';

export interface BankDb {
  server: MysqlServer;
  /** go-zero's DSN of database `db` on this server. */
  dsn(db: string): string;
  stop(): Promise<void>;
}

/** A fresh MariaDB (~5 s): no database, table or barrier in it yet. */
export async function startBankDb(): Promise<BankDb> {
  const dir = mkdtempSync(join(tmpdir(), 'dtm-gozero-bank-db-'));
  const { server, service } = await startOwnMariadb(dir, await freePort());
  return {
    server,
    dsn: (db) => `${server.user}:${server.password}@tcp(${server.host}:${server.port})/${db}?parseTime=true`,
    async stop() {
      await service.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** trans as the bank: its YAML names `dsn` under `section`; resolves once it serves (its tables exist by then). */
async function startTransOn(
  key: string,
  section: 'Mysql' | 'Postgres',
  dsn: string,
): Promise<{ proc: Proc; port: number; config: string }> {
  const port = await freePort();
  const hosts = testStack()
    .etcdEndpoints.map((h) => `    - ${h}\n`)
    .join('');
  const config = tempFile(
    'trans.yaml',
    `Name: trans.rpc\nListenOn: 127.0.0.1:${port}\nEtcd:\n  Hosts:\n${hosts}  Key: ${key}\n${section}:\n  DataSource: ${dsn}\n`,
  );
  const proc = runNode(TRANS, ['-f', config], join(root, 'apps/trans'));
  await proc.waitFor(/Starting rpc server at/, 30_000);
  return { proc, port, config };
}

/** trans as the bank on MySQL/MariaDB. */
export function startBankTrans(key: string, dsn: string): Promise<{ proc: Proc; port: number; config: string }> {
  return startTransOn(key, 'Mysql', dsn);
}

export function bankOf(dsn: string): Bank {
  return openBank(parseMysqlDataSource(dsn, 'test'));
}

/** dtm's branch metadata for a raw call. */
export function dtmMetadata(transType: string, gid: string, branchId: string, op: string): Metadata {
  const md = new Metadata();
  md.set('dtm-trans_type', transType);
  md.set('dtm-gid', gid);
  md.set('dtm-branch_id', branchId);
  md.set('dtm-op', op);
  md.set('dtm-dtm', testStack().dtmGrpc);
  return md;
}

/**
 * Calls `/trans.TransSvc/<method>` (or the full path given, `/pkg.Svc/Method`) on 127.0.0.1:port with raw bytes, as
 * dtm does; resolves with the status code.
 */
export function rawCall(
  port: number,
  method: string,
  bytes: Uint8Array,
  md = new Metadata(),
  ms = 10_000,
): Promise<{ code: number; details: string; ms: number }> {
  const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure());
  const started = Date.now();
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      method.startsWith('/') ? method : `/trans.TransSvc/${method}`,
      (b: Buffer) => b,
      (b: Buffer) => b,
      Buffer.from(bytes),
      md,
      { deadline: Date.now() + ms },
      (err: ServiceError | null) => {
        client.close();
        resolve({ code: err?.code ?? 0, details: err?.details ?? '', ms: Date.now() - started });
      },
    );
  });
}

const PG_BIN = (() => {
  try {
    const v = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a))[0];
    return v ? `/usr/lib/postgresql/${v}/bin` : '';
  } catch {
    return '';
  }
})();

/** A fresh PostgreSQL (trust auth, max_prepared_transactions for XA) of the test's own, on a free port. */
export async function startBankPostgres(): Promise<{ url(db: string): string; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'dtm-gozero-bank-pg-'));
  const data = join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  const as = (cmd: string, args: string[]): [string, string[]] =>
    asRoot ? ['setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', '--', cmd, ...args]] : [cmd, args];
  if (asRoot) execFileSync('chown', ['postgres', dir]);
  execFileSync(
    ...as(join(PG_BIN, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C']),
    {
      stdio: 'ignore',
      timeout: 60_000,
    },
  );
  const port = await freePort();
  const [cmd, args] = as(join(PG_BIN, 'postgres'), [
    '-D',
    data,
    '-p',
    String(port),
    '-k',
    dir,
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    'fsync=off',
    '-c',
    'max_prepared_transactions=10',
  ]);
  const service = new Service(dir, 'postgres', cmd, args, () => portOpen(port));
  await service.start(60_000);
  return {
    url: (db) => `postgres://postgres:x@127.0.0.1:${port}/${db}`,
    async stop() {
      await service.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** trans as the bank on PostgreSQL. */
export function startPostgresBankTrans(
  key: string,
  url: string,
): Promise<{ proc: Proc; port: number; config: string }> {
  return startTransOn(key, 'Postgres', url);
}

/** Balances and the ledger's net per account at one moment. */
export interface LedgerSnapshot {
  balances: Map<bigint, bigint>;
  net: Map<bigint, bigint>;
}

export async function ledgerSnapshot(bank: Bank): Promise<LedgerSnapshot> {
  const net = new Map<bigint, bigint>();
  for (const r of await bank.ledger()) net.set(r.user, (net.get(r.user) ?? 0n) + r.delta);
  return { balances: await bank.balances(), net };
}

/**
 * What changed since `before` without being applied whole: a balance that moved other than by its ledger rows (or a
 * row without its move), an account that appeared. Empty when every change committed with its ledger row.
 */
export async function unledgered(bank: Bank, before: LedgerSnapshot): Promise<string[]> {
  const now = await ledgerSnapshot(bank);
  const out: string[] = [];
  for (const [u, b] of now.balances) {
    const was = before.balances.get(u);
    const rows = (now.net.get(u) ?? 0n) - (before.net.get(u) ?? 0n);
    if (was === undefined) out.push(`account ${u} appeared`);
    else if (b - was !== rows) out.push(`account ${u}: ${was} → ${b}, but its ledger rows add ${rows}`);
  }
  return out;
}
