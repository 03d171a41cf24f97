// The bank for integration tests: a MariaDB of the test's own (free port, temp dir, nothing created in it), trans
// started with a YAML naming it in go-zero's DSN form, and raw gRPC calls to trans the way dtm makes them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Bank, openBank, parseMysqlDataSource } from '@dtm-gozero/trans/bank';
import { Client, credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { type MysqlServer, startOwnMariadb } from '../../scripts/cluster.ts';
import { freePort, type Proc, root, runNode, TRANS, tempFile } from './procs.ts';
import { testStack } from './stack-context.ts';

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

/** trans as the bank: its YAML names `dsn`; resolves once it serves (it has created its tables by then). */
export async function startBankTrans(key: string, dsn: string): Promise<{ proc: Proc; port: number; config: string }> {
  const port = await freePort();
  const hosts = testStack()
    .etcdEndpoints.map((h) => `    - ${h}\n`)
    .join('');
  const config = tempFile(
    'trans.yaml',
    `Name: trans.rpc\nListenOn: 127.0.0.1:${port}\nEtcd:\n  Hosts:\n${hosts}  Key: ${key}\nMysql:\n  DataSource: ${dsn}\n`,
  );
  const proc = runNode(TRANS, ['-f', config], join(root, 'apps/trans'));
  await proc.waitFor(/Starting rpc server at/, 30_000);
  return { proc, port, config };
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

/** Calls `/trans.TransSvc/<method>` on 127.0.0.1:port with raw bytes, as dtm does; resolves with the status code. */
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
      `/trans.TransSvc/${method}`,
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
