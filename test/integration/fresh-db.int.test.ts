import { randomUUID } from 'node:crypto';
import { freePort, type Proc, runNode, TRANS, tempFile } from '@dtm-gozero/devkit';
import { runApp, testDatabases, testStack } from '@dtm-gozero/devkit/stack';
import { createConnection } from 'mysql2/promise';
import { afterAll, describe, expect, test } from 'vitest';
import { type OwnDatabases, startOwnDatabases } from '../support/databases.ts';

// The README's database path on servers that never saw the project: `bash scripts/db.sh up` from scratch, then
// trans and `npm run app -- xa` with Mysql.DataSource naming that server (trans creates dtm_busi on first use).

async function query<T>(mysqlUrl: string, sql: string): Promise<T> {
  const conn = await createConnection({ uri: mysqlUrl, connectTimeout: 3000 });
  try {
    return (await conn.query(sql))[0] as T;
  } finally {
    await conn.end();
  }
}

/** trans (unique key, the suite's etcd) and `app xa` against the MariaDB at `mysqlUrl`; returns the app's line. */
async function xaAgainst(mysqlUrl: string): Promise<string> {
  const key = `trans-fresh-${randomUUID().slice(0, 8)}`;
  const ds = `Mysql:\n  DataSource: ${mysqlUrl}dtm_busi\n`;
  const hosts = testStack()
    .etcdEndpoints.map((h) => `    - ${h}\n`)
    .join('');
  const port = await freePort();
  const trans: Proc = runNode(
    TRANS,
    [
      '-f',
      tempFile('trans.yaml', `Name: t\nListenOn: 127.0.0.1:${port}\nEtcd:\n  Hosts:\n${hosts}  Key: ${key}\n${ds}`),
    ],
    process.cwd(),
  );
  try {
    await trans.waitFor(/Starting rpc server at/, 15_000);
    const app = runApp(['-f', tempFile('config.yaml', `Etcd:\n  Hosts:\n${hosts}  Key: ${key}\n`), 'xa']);
    expect(await app.exited(30_000), app.stderr()).toBe(0);
    return app.stdout().trim();
  } finally {
    trans.kill('SIGTERM');
    await trans.exited(6000).catch(() => undefined);
  }
}

describe('a database server that never saw the project', () => {
  let own: OwnDatabases | undefined;
  afterAll(() => own?.stop());

  test('`bash scripts/db.sh up` from scratch, then `app xa`: the example database is created, the XA commits', async () => {
    own = await startOwnDatabases();
    const url = own.databases.mysqlUrl;
    expect(await query(url, "SHOW DATABASES LIKE 'dtm_busi'")).toEqual([]);
    expect(await xaAgainst(url)).toMatch(/^xa \S+ succeed$/);
    expect(
      await query(url, 'SELECT user_id FROM dtm_busi.user_account WHERE user_id IN (1, 2) ORDER BY user_id'),
    ).toEqual([{ user_id: 1 }, { user_id: 2 }]);
  }, 120_000);

  test("the suite's MariaDB with dtm_busi dropped: `app xa` succeeds and dtm_busi is back", async () => {
    const url = testDatabases().mysqlUrl;
    await query(url, 'DROP DATABASE IF EXISTS dtm_busi');
    expect(await xaAgainst(url)).toMatch(/^xa \S+ succeed$/);
    expect(await query(url, 'SELECT user_id FROM dtm_busi.user_account ORDER BY user_id')).toEqual([
      { user_id: 1 },
      { user_id: 2 },
    ]);
  }, 60_000);
});
