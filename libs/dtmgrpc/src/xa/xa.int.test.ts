import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type BusiServer, startBusiServer } from '@dtm-gozero/devkit/busi';
import { DTM_ETCD, DTM_GRPC, dtmOptions, dtmQuery, finalTrans } from '@dtm-gozero/devkit/dtm';
import { testDatabases } from '@dtm-gozero/devkit/stack';
import { AdjustInfo } from '@dtm-gozero/proto/trans';
import { Metadata } from '@grpc/grpc-js';
import { createPool, type Pool as MysqlPool, type PoolConnection } from 'mysql2/promise';
import { Pool as PgPool, type PoolClient } from 'pg';
import { afterAll, beforeAll, describe, expect, test, test as vtest } from 'vitest';
import { closeConnections } from '../conn.ts';
import { DtmFailure, DtmInputError } from '../errors.ts';
import type { UnaryMethod } from '../method.ts';
import { genGid } from '../trans-base.ts';
import type { XaBranchInfo, XaDb } from './contract.ts';
import { xaLocalTransaction } from './local.ts';
import { xaGlobalTransaction } from './xa.ts';

// XA against the real dtm: the in-process busi.Busi service is the resource manager; each of its XA methods runs
// xaLocalTransaction on a real MariaDB and a real Postgres (scripts/db.sh starts it with max_prepared_transactions=10).
// dtm calls the same methods back with op commit/rollback. What the client sent to dtm is read back from dtm's query
// API.
const PG_URL = process.env.DTM_TEST_PG_XA_URL ?? testDatabases().postgresUrl;
const sqlDir = join(import.meta.dirname, '..', '..', 'sql');
const r1 = { Amount: 30n, UserID: 1n };
const r2 = { Amount: 30n, UserID: 2n };

let busi: BusiServer;
let mysql: MysqlPool;
let pg: PgPool;
let pgPrepared = 0;
const unavailable = () =>
  `the Postgres at ${PG_URL} has max_prepared_transactions = ${pgPrepared}, but XA on Postgres needs it > 0; ` +
  'scripts/db.sh starts Postgres with max_prepared_transactions=10, but reuses a server that already answers: ' +
  'restart the databases (bash scripts/db.sh down && bash scripts/db.sh up)';

/** What a test needs from one database. */
interface Db {
  name: string;
  xaDb: XaDb<PoolConnection> | XaDb<PoolClient>;
  insert(conn: unknown, gid: string, req: AdjustInfo): Promise<void>;
  rows(gid: string): Promise<{ user: number; amount: number }[]>;
  /** Prepared (in-doubt) transactions of this gid. */
  prepared(gid: string): Promise<string[]>;
  barrier(gid: string): Promise<string[]>;
}

const mysqlDb = (): Db => ({
  name: 'MariaDB',
  xaDb: { mysql },
  insert: async (conn, gid, req) => {
    await (conn as PoolConnection).query('INSERT INTO dtm_xa_test.xa_busi (gid, user_id, amount) VALUES (?, ?, ?)', [
      gid,
      req.UserID,
      req.Amount,
    ]);
  },
  rows: async (gid) => {
    const [rows] = await mysql.query(
      'SELECT user_id AS user, amount FROM dtm_xa_test.xa_busi WHERE gid = ? ORDER BY user_id',
      [gid],
    );
    return (rows as { user: number; amount: number }[]).map((r) => ({
      user: Number(r.user),
      amount: Number(r.amount),
    }));
  },
  prepared: async (gid) => {
    const [rows] = await mysql.query('XA RECOVER');
    return (rows as { data: unknown }[]).map((r) => String(r.data)).filter((x) => x.startsWith(gid));
  },
  barrier: async (gid) => {
    const [rows] = await mysql.query(
      'SELECT trans_type, branch_id, op, barrier_id, reason FROM dtm_barrier.barrier WHERE gid = ? ORDER BY branch_id',
      [gid],
    );
    return (rows as Record<string, string>[]).map(
      (r) => `${r.trans_type}/${r.branch_id}/${r.op}/${r.barrier_id}/${r.reason}`,
    );
  },
});

const pgDb = (): Db => ({
  name: 'Postgres',
  xaDb: { postgres: pg },
  insert: async (conn, gid, req) => {
    await (conn as PoolClient).query('INSERT INTO dtm_xa_test.xa_busi (gid, user_id, amount) VALUES ($1, $2, $3)', [
      gid,
      req.UserID,
      req.Amount,
    ]);
  },
  rows: async (gid) => {
    const r = await pg.query(
      'SELECT user_id AS user, amount FROM dtm_xa_test.xa_busi WHERE gid = $1 ORDER BY user_id',
      [gid],
    );
    return r.rows.map((x: { user: number; amount: string }) => ({ user: Number(x.user), amount: Number(x.amount) }));
  },
  prepared: async (gid) => {
    const r = await pg.query('SELECT gid FROM pg_prepared_xacts WHERE gid LIKE $1', [`${gid}%`]);
    return r.rows.map((x: { gid: string }) => x.gid);
  },
  barrier: async (gid) => {
    const r = await pg.query(
      'SELECT trans_type, branch_id, op, barrier_id, reason FROM dtm_barrier.barrier WHERE gid = $1 ORDER BY branch_id',
      [gid],
    );
    return r.rows.map(
      (x: Record<string, string>) => `${x.trans_type}/${x.branch_id}/${x.op}/${x.barrier_id}/${x.reason}`,
    );
  },
});

/** The resource-manager side of busi.Busi: XA methods per database, failing on demand per gid. */
function serveXa(db: Db, prefix: string): void {
  for (const m of ['XaTransOut', 'XaTransIn']) {
    busi.on(`${prefix}${m}`, (req, call) =>
      xaLocalTransaction(call, db.xaDb as XaDb<unknown>, async (conn: unknown, info: XaBranchInfo) => {
        await db.insert(conn, info.gid, req);
        if (failing.has(`${info.gid}/${m}`)) throw new DtmFailure(`${m} refused`);
      }),
    );
  }
}
const failing = new Set<string>();

beforeAll(async () => {
  busi = await startBusiServer(['MyXaTransOut', 'MyXaTransIn', 'PgXaTransOut', 'PgXaTransIn']);
  mysql = createPool({ ...testDatabases().mysql, connectionLimit: 5 });
  await mysql.query('CREATE DATABASE IF NOT EXISTS dtm_xa_test');
  await mysql.query(
    'CREATE TABLE IF NOT EXISTS dtm_xa_test.xa_busi (gid VARCHAR(128), user_id INT, amount BIGINT, PRIMARY KEY (gid, user_id))',
  );
  pg = new PgPool({ connectionString: PG_URL, max: 5 });
  await pg.query(readFileSync(join(sqlDir, 'barrier.postgres.sql'), 'utf8'));
  await pg.query('CREATE SCHEMA IF NOT EXISTS dtm_xa_test');
  await pg.query(
    'CREATE TABLE IF NOT EXISTS dtm_xa_test.xa_busi (gid VARCHAR(128), user_id INT, amount BIGINT, PRIMARY KEY (gid, user_id))',
  );
  pgPrepared = Number((await pg.query("SELECT current_setting('max_prepared_transactions')::int AS n")).rows[0].n);
  serveXa(mysqlDb(), 'My');
  serveXa(pgDb(), 'Pg');
});
afterAll(async () => {
  await busi?.stop();
  closeConnections();
  await mysql?.end();
  await pg?.end();
});

/** The metadata of branch 01 of `gid`, as the client (action) or dtm (commit/rollback) would send it. */
function xaMetadata(gid: string, op: string, phase2Url: string): Metadata {
  const md = new Metadata();
  for (const [k, v] of Object.entries({
    'dtm-gid': gid,
    'dtm-trans_type': 'xa',
    'dtm-branch_id': '01',
    'dtm-op': op,
    'dtm-dtm': op === 'action' ? DTM_GRPC : '',
    'dtm-phase2_url': op === 'action' ? phase2Url : '',
  }))
    md.set(k, v);
  return md;
}

/** The flows, once per database; `check` runs first in every test (it fails the test when the database cannot). */
function xaFlows(dbOf: () => Db, prefix: string, check: () => void = () => undefined): void {
  const m = (name: string) => busi.method(`${prefix}${name}`);
  const test = (name: string, fn: () => Promise<void>) =>
    vtest(name, async () => {
      check();
      await fn();
    });

  test('success: both branches prepare, dtm commits them, the rows are visible after', async () => {
    const db = dbOf();
    const gid = await genGid(DTM_ETCD);
    const replies: unknown[] = [];
    await xaGlobalTransaction(
      DTM_ETCD,
      gid,
      async (xa) => {
        replies.push(await xa.callBranch(busi.target, m('XaTransOut'), r1));
        // between the two branches the first one's row is prepared, not committed
        expect(await db.rows(gid)).toEqual([]);
        expect(await db.prepared(gid)).toEqual([`${gid}-01`]);
        replies.push(await xa.callBranch(busi.target, m('XaTransIn'), r2));
      },
      (xa) => {
        xa.options.waitResult = true;
      },
    );
    expect(replies).toEqual([{}, {}]);
    const t = await finalTrans(gid);
    expect(t.transaction?.status).toBe('succeed');
    expect(await db.rows(gid)).toEqual([
      { user: 1, amount: 30 },
      { user: 2, amount: 30 },
    ]);
    expect(await db.prepared(gid)).toEqual([]);
    expect(busi.log(gid, true).slice(0, 2)).toEqual([`${prefix}XaTransOut:action:01`, `${prefix}XaTransIn:action:02`]);
    expect(busi.log(gid, true).slice(2).sort()).toEqual([
      `${prefix}XaTransIn:commit:02`,
      `${prefix}XaTransOut:commit:01`,
    ]);
    const calls = busi.calls.filter((c) => c.gid === gid);
    // phase 1 comes from the client with dtm's address and the phase-2 URL; phase 2 from dtm, with no payload
    expect(calls[0]).toMatchObject({ transType: 'xa', dtm: DTM_ETCD, phase2Url: busi.url(`${prefix}XaTransOut`) });
    expect(calls.filter((c) => c.op === 'commit').map((c) => [c.dtm, c.payloadBytes])).toEqual([
      ['', 0],
      ['', 0],
    ]);
    expect(
      t.branches.map(
        (b) => `${b.branch_id}:${b.op}:${b.url === busi.url(`${prefix}XaTrans${b.branch_id === '01' ? 'Out' : 'In'}`)}`,
      ),
    ).toEqual(['01:rollback:true', '01:commit:true', '02:rollback:true', '02:commit:true']);
    expect(await db.barrier(gid)).toEqual(['xa/01/action/01/action', 'xa/02/action/01/action']);
  });

  test('rollback: the second branch fails → the first is rolled back by dtm; no rows', async () => {
    const db = dbOf();
    const gid = await genGid(DTM_GRPC);
    failing.add(`${gid}/XaTransIn`);
    const err = await xaGlobalTransaction(
      DTM_GRPC,
      gid,
      async (xa) => {
        await xa.callBranch(busi.target, m('XaTransOut'), r1);
        await xa.callBranch(busi.target, m('XaTransIn'), r2);
      },
      (xa) => {
        xa.options.waitResult = true;
      },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DtmFailure);
    expect((err as Error).message).toMatch(/XaTransIn refused/);
    const t = await finalTrans(gid);
    expect(t.transaction?.status).toBe('failed');
    expect(t.transaction?.rollback_reason).toMatch(/XaTransIn refused/);
    expect(await db.rows(gid)).toEqual([]);
    expect(await db.prepared(gid)).toEqual([]);
    // branch 02 rolled itself back and never registered: dtm only rolls back 01
    expect(busi.log(gid, true)).toEqual([
      `${prefix}XaTransOut:action:01`,
      `${prefix}XaTransIn:action:02`,
      `${prefix}XaTransOut:rollback:01`,
    ]);
    expect(t.branches.map((b) => `${b.branch_id}:${b.op}`)).toEqual(['01:rollback', '01:commit']);
    // the rollback left its barrier row (reason rollback); phase 1's own row went with the rolled-back transaction
    expect(await db.barrier(gid)).toEqual(['xa/01/action/01/rollback']);
  });

  test('Go-style callBranchUrl with encoded bytes', async () => {
    const db = dbOf();
    const gid = await genGid(DTM_GRPC);
    await xaGlobalTransaction(
      DTM_GRPC,
      gid,
      async (xa) => {
        const reply = await xa.callBranchUrl(busi.url(`${prefix}XaTransOut`), AdjustInfo.encode(r1).finish());
        expect(reply.length).toBe(0);
      },
      (xa) => {
        xa.options.waitResult = true;
      },
    );
    expect((await finalTrans(gid)).transaction?.status).toBe('succeed');
    expect(await db.rows(gid)).toEqual([{ user: 1, amount: 30 }]);
  });

  test('the local function throwing a plain error also aborts; nothing stays prepared', async () => {
    const db = dbOf();
    const gid = await genGid(DTM_GRPC);
    await expect(
      xaGlobalTransaction(DTM_GRPC, gid, async (xa) => {
        await xa.callBranch(busi.target, m('XaTransOut'), r1);
        throw new Error('app decided otherwise');
      }),
    ).rejects.toThrow('app decided otherwise');
    expect((await finalTrans(gid)).transaction?.status).toBe('failed');
    expect(await db.rows(gid)).toEqual([]);
    expect(await db.prepared(gid)).toEqual([]);
    expect(busi.log(gid)).toEqual([`${prefix}XaTransOut:action`, `${prefix}XaTransOut:rollback`]);
  });

  test('RM: phase 2 is idempotent; a phase 1 arriving after its rollback refuses to run', async () => {
    const db = dbOf();
    const gid = `xa-late-${Date.now()}-${prefix}`;
    const md = (op: string) => xaMetadata(gid, op, busi.url(`${prefix}XaTransOut`));
    let ran = false;
    const fn = async () => {
      ran = true;
    };
    // rollback before the action ever ran (dtm timed the branch out): nothing to undo, the barrier row is left
    await xaLocalTransaction(md('rollback'), db.xaDb as XaDb<unknown>, fn);
    await xaLocalTransaction(md('rollback'), db.xaDb as XaDb<unknown>, fn);
    await xaLocalTransaction(md('commit'), db.xaDb as XaDb<unknown>, fn);
    expect(await db.barrier(gid)).toEqual(['xa/01/action/01/rollback']);
    // the late action: refused before the local work, and before registering with dtm (no global exists anyway)
    await expect(xaLocalTransaction(md('action'), db.xaDb as XaDb<unknown>, fn)).rejects.toThrow(
      /its rollback came first/,
    );
    expect(ran).toBe(false);
    expect(await db.prepared(gid)).toEqual([]);
  });
}

describe('xa global side against the real dtm: what the client sends', () => {
  test('Prepare → fn → Submit, with the options set by custom; the branches get the branch headers', async () => {
    const gid = await genGid(DTM_GRPC);
    const seen: { status?: string; branches: string[] }[] = [];
    const snapshot = async () => {
      const t = await dtmQuery(gid);
      seen.push({ status: t.transaction?.status, branches: t.branches.map((b) => `${b.branch_id}:${b.op}`) });
    };
    await xaGlobalTransaction(
      DTM_GRPC,
      gid,
      async (xa) => {
        await snapshot(); // after Prepare
        await xa.callBranch(busi.target, busi.method('MyXaTransOut'), r1);
        await snapshot(); // the branch registered itself; still not submitted
      },
      (xa) => {
        xa.options.timeoutToFail = 20;
        xa.options.waitResult = true;
        xa.options.branchHeaders = { 'x-tenant': 't1' };
      },
    );
    expect(seen).toEqual([
      { status: 'prepared', branches: [] },
      { status: 'prepared', branches: ['01:rollback', '01:commit'] },
    ]);
    const t = await finalTrans(gid);
    expect(t.transaction).toMatchObject({ trans_type: 'xa', status: 'succeed' });
    expect(t.transaction?.steps ?? []).toEqual([]);
    expect(t.transaction?.custom_data ?? '').toBe('');
    expect(t.transaction?.rollback_reason ?? '').toBe('');
    expect(dtmOptions(t)).toMatchObject({
      timeout_to_fail: 20,
      wait_result: true,
      branch_headers: { 'x-tenant': 't1' },
    });
    expect(t.branches.map((b) => [b.branch_id, b.op, b.url])).toEqual([
      ['01', 'rollback', busi.url('MyXaTransOut')],
      ['01', 'commit', busi.url('MyXaTransOut')],
    ]);
    // phase 1 from the client, phase 2 from dtm: both with the branch headers
    expect(busi.calls.filter((c) => c.gid === gid).map((c) => [c.op, c.headers['x-tenant']])).toEqual([
      ['action', 't1'],
      ['commit', 't1'],
    ]);
    expect(await mysqlDb().rows(gid)).toEqual([{ user: 1, amount: 30 }]);
  });

  test('fn throws → Abort with the error as rollback reason, and the error is rethrown', async () => {
    const gid = await genGid(DTM_GRPC);
    const err = await xaGlobalTransaction(DTM_GRPC, gid, async () => {
      throw new Error('no stock');
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe('no stock');
    const t = await finalTrans(gid);
    expect(t.transaction).toMatchObject({ trans_type: 'xa', status: 'failed', rollback_reason: 'no stock' });
    expect(t.branches).toEqual([]);
  });

  test('a streaming descriptor or a bad URL: the branch is never called, the global is aborted, not submitted', async () => {
    const streaming = { ...busi.method('MyXaTransOut'), requestStream: true } as unknown as UnaryMethod<
      typeof r1,
      unknown
    >;
    const gid = await genGid(DTM_GRPC);
    const err = await xaGlobalTransaction(DTM_GRPC, gid, async (xa) => {
      await xa.callBranch(busi.target, streaming, r1);
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DtmInputError);
    expect((err as Error).message).toMatch(/streaming method/);
    const t = await finalTrans(gid);
    expect(t.transaction).toMatchObject({ trans_type: 'xa', status: 'failed' });
    expect(t.transaction?.rollback_reason).toMatch(/streaming method/);
    expect(t.branches).toEqual([]);
    expect(busi.log(gid)).toEqual([]);

    const gid2 = await genGid(DTM_GRPC);
    const err2 = await xaGlobalTransaction(DTM_GRPC, gid2, async (xa) => {
      await xa.callBranchUrl('no-method-path', AdjustInfo.encode(r1).finish());
    }).catch((e: unknown) => e);
    expect(err2).toBeInstanceOf(DtmInputError);
    const t2 = await finalTrans(gid2);
    expect(t2.transaction).toMatchObject({ trans_type: 'xa', status: 'failed' });
    expect(t2.transaction?.rollback_reason).toBe((err2 as Error).message);
    expect(t2.branches).toEqual([]);
    expect(busi.log(gid2)).toEqual([]);
  });
});

describe('xa on MariaDB against the real dtm', () => {
  xaFlows(mysqlDb, 'My');

  test('phase 2 waits for a prepared transaction still bound to its phase-1 session (MariaDB answers "unknown XID")', async () => {
    const db = mysqlDb();
    const gid = `xa-bound-${Date.now()}`;
    const xid = `${gid}-01`;
    const holder = await mysql.getConnection();
    await holder.query(`XA START '${xid}'`);
    await db.insert(holder, gid, r1);
    await holder.query(`XA END '${xid}'`);
    await holder.query(`XA PREPARE '${xid}'`);
    try {
      let done = false;
      const commit = xaLocalTransaction(xaMetadata(gid, 'commit', ''), db.xaDb as XaDb<unknown>, async () => undefined);
      commit.then(
        () => {
          done = true;
        },
        () => undefined,
      );
      await new Promise((r) => setTimeout(r, 400));
      expect(done).toBe(false); // not taken for "already done"
      expect(await db.rows(gid)).toEqual([]);
      holder.destroy(); // the phase-1 session goes away: now the transaction can be committed elsewhere
      await commit;
      expect(await db.rows(gid)).toEqual([{ user: 1, amount: 30 }]);
      expect(await db.prepared(gid)).toEqual([]);
    } finally {
      holder.destroy();
      // a failed run must not leave a prepared transaction holding row locks
      await mysql.query(`XA ROLLBACK '${xid}'`).catch(() => undefined);
    }
  });
});

describe('xa on Postgres against the real dtm', () => {
  // The client's error for a Postgres without prepared transactions is checked in xa.test.ts: the project's
  // Postgres always has them.
  xaFlows(pgDb, 'Pg', () => {
    if (pgPrepared <= 0) expect.fail(unavailable());
  });
});
