// The sub-transaction barrier against real MariaDB, PostgreSQL and Redis (the integration suite's own, started by
// its global setup with scripts/db.sh, barrier schema included). Every test uses fresh random gids. Business = a JS
// counter plus a ledger row written in the barrier's transaction, so "ran once" is checked both in process and in the
// database.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { eventually, freePort, stopGrpcServer } from '@dtm-gozero/devkit';
import { testDatabases } from '@dtm-gozero/devkit/stack';
import {
  Client,
  credentials,
  Metadata,
  Server,
  ServerCredentials,
  type ServerUnaryCall,
  type sendUnaryData,
  status,
} from '@grpc/grpc-js';
import { Redis } from 'ioredis';
import { createPool, type Pool as MysqlPool, type PoolConnection } from 'mysql2/promise';
import { Pool as PgPool, type PoolClient } from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DtmDuplicated, DtmFailure, DtmInputError } from '../errors.ts';
import { xaLocalTransaction } from '../xa/local.ts';
import { BranchBarrier, barrierFromGrpc } from './barrier.ts';
import type { BarrierOutcome } from './core.ts';

let mysqlPool: MysqlPool;
let pgPool: PgPool;
let redis: Redis;

beforeAll(() => {
  const { mysql, postgres, redis: r } = testDatabases();
  mysqlPool = createPool({ ...mysql, connectionLimit: 10 });
  pgPool = new PgPool(postgres);
  redis = new Redis({ ...r, maxRetriesPerRequest: 2 });
});

beforeAll(async () => {
  // the business table the tests write to, next to the barrier table
  await mysqlPool.query('create database if not exists dtm_busi_test');
  await mysqlPool.query(
    'create table if not exists dtm_busi_test.ledger (id bigint auto_increment primary key, gid varchar(128), note varchar(64))',
  );
  await pgPool.query('create schema if not exists dtm_busi_test');
  await pgPool.query(
    'create table if not exists dtm_busi_test.ledger (id bigserial primary key, gid varchar(128), note varchar(64))',
  );
});

afterAll(async () => {
  await mysqlPool?.end();
  await pgPool?.end();
  redis?.disconnect();
});

const newGid = () => `barrier-test-${randomUUID()}`;

interface BarrierRow {
  trans_type: string;
  branch_id: string;
  op: string;
  barrier_id: string;
  reason: string;
}

/** What the SQL tests need from one database. */
interface SqlKit {
  /** Runs the barrier with a business step that counts its runs and writes one ledger row in the transaction. */
  call(bb: BranchBarrier, runs: { n: number }, opts?: { fail?: boolean }): Promise<BarrierOutcome>;
  /** The same through the caller-begun-transaction entry point (callMysql / callPostgres). */
  callInOwnTx(bb: BranchBarrier, runs: { n: number }): Promise<BarrierOutcome>;
  queryPrepared(bb: BranchBarrier): Promise<void>;
  rows(gid: string): Promise<BarrierRow[]>;
  ledger(gid: string): Promise<number>;
}

const rowOrder = (a: BarrierRow, b: BarrierRow) =>
  `${a.barrier_id}/${a.op}`.localeCompare(`${b.barrier_id}/${b.op}`, 'en');

const mysqlKit: SqlKit = {
  call(bb, runs, opts = {}) {
    return bb.callWithMysql(mysqlPool, async (tx: PoolConnection) => {
      runs.n += 1;
      await tx.query('insert into dtm_busi_test.ledger(gid, note) values(?, ?)', [bb.gid, bb.op]);
      if (opts.fail) throw new Error('business failed');
    });
  },
  async callInOwnTx(bb, runs) {
    const conn = await mysqlPool.getConnection();
    try {
      await conn.beginTransaction();
      return await bb.callMysql(conn, async (tx) => {
        runs.n += 1;
        await tx.query('insert into dtm_busi_test.ledger(gid, note) values(?, ?)', [bb.gid, bb.op]);
      });
    } finally {
      conn.release();
    }
  },
  queryPrepared: (bb) => bb.queryPreparedMysql(mysqlPool),
  async rows(gid) {
    const [rows] = await mysqlPool.query(
      'select trans_type, branch_id, op, barrier_id, reason from dtm_barrier.barrier where gid = ?',
      [gid],
    );
    return (rows as BarrierRow[]).map((r) => ({ ...r })).sort(rowOrder);
  },
  async ledger(gid) {
    const [rows] = await mysqlPool.query('select count(*) as n from dtm_busi_test.ledger where gid = ?', [gid]);
    return Number((rows as { n: number }[])[0]?.n);
  },
};

const pgKit: SqlKit = {
  call(bb, runs, opts = {}) {
    return bb.callWithPostgres(pgPool, async (tx: PoolClient) => {
      runs.n += 1;
      await tx.query('insert into dtm_busi_test.ledger(gid, note) values($1, $2)', [bb.gid, bb.op]);
      if (opts.fail) throw new Error('business failed');
    });
  },
  async callInOwnTx(bb, runs) {
    const client = await pgPool.connect();
    try {
      await client.query('BEGIN');
      return await bb.callPostgres(client, async (tx) => {
        runs.n += 1;
        await tx.query('insert into dtm_busi_test.ledger(gid, note) values($1, $2)', [bb.gid, bb.op]);
      });
    } finally {
      client.release();
    }
  },
  queryPrepared: (bb) => bb.queryPreparedPostgres(pgPool),
  async rows(gid) {
    const r = await pgPool.query<BarrierRow>(
      'select trans_type, branch_id, op, barrier_id, reason from dtm_barrier.barrier where gid = $1',
      [gid],
    );
    return r.rows.sort(rowOrder);
  },
  async ledger(gid) {
    const r = await pgPool.query<{ n: string }>('select count(*) as n from dtm_busi_test.ledger where gid = $1', [gid]);
    return Number(r.rows[0]?.n);
  },
};

describe.each([
  ['MariaDB', mysqlKit],
  ['Postgres', pgKit],
])('SQL barrier on %s', (_name, kit) => {
  test('idempotency: a try delivered twice runs business once', async () => {
    const gid = newGid();
    const runs = { n: 0 };
    // each delivery builds its own barrier from the request, as a handler does
    expect(await kit.call(new BranchBarrier('tcc', gid, '01', 'try'), runs)).toBe('executed');
    expect(await kit.call(new BranchBarrier('tcc', gid, '01', 'try'), runs)).toBe('duplicate');
    expect(runs.n).toBe(1);
    expect(await kit.ledger(gid)).toBe(1);
    expect(await kit.rows(gid)).toEqual([
      { trans_type: 'tcc', branch_id: '01', op: 'try', barrier_id: '01', reason: 'try' },
    ]);
  });

  test('idempotency under concurrency: 6 simultaneous deliveries, business runs once', async () => {
    const gid = newGid();
    const runs = { n: 0 };
    const outcomes = await Promise.all(
      Array.from({ length: 6 }, () => kit.call(new BranchBarrier('saga', gid, '01', 'action'), runs)),
    );
    expect(outcomes.filter((o) => o === 'executed')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'duplicate')).toHaveLength(5);
    expect(runs.n).toBe(1);
    expect(await kit.ledger(gid)).toBe(1);
  });

  test('confirm and msg actions (no origin op) are idempotent too', async () => {
    const gid = newGid();
    const runs = { n: 0 };
    for (let i = 0; i < 3; i++) await kit.call(new BranchBarrier('tcc', gid, '01', 'confirm'), runs);
    for (let i = 0; i < 3; i++) await kit.call(new BranchBarrier('msg', gid, '02', 'action'), runs);
    expect(runs.n).toBe(2);
    expect(await kit.ledger(gid)).toBe(2);
  });

  test('null compensation: cancel before try does nothing and succeeds', async () => {
    const gid = newGid();
    const runs = { n: 0 };
    await expect(kit.call(new BranchBarrier('tcc', gid, '01', 'cancel'), runs)).resolves.toBe('null-compensation');
    expect(runs.n).toBe(0);
    expect(await kit.ledger(gid)).toBe(0);
    // the cancel left the try's slot taken (reason: cancel) plus its own row — dtm's exact layout
    expect(await kit.rows(gid)).toEqual([
      { trans_type: 'tcc', branch_id: '01', op: 'cancel', barrier_id: '01', reason: 'cancel' },
      { trans_type: 'tcc', branch_id: '01', op: 'try', barrier_id: '01', reason: 'cancel' },
    ]);
    // a repeated cancel is a plain duplicate
    expect(await kit.call(new BranchBarrier('tcc', gid, '01', 'cancel'), runs)).toBe('duplicate');
    expect(runs.n).toBe(0);
  });

  test('hanging prevention: a try arriving after its cancel is skipped', async () => {
    const gid = newGid();
    const runs = { n: 0 };
    expect(await kit.call(new BranchBarrier('tcc', gid, '01', 'cancel'), runs)).toBe('null-compensation');
    expect(await kit.call(new BranchBarrier('tcc', gid, '01', 'try'), runs)).toBe('duplicate');
    expect(runs.n).toBe(0);
    expect(await kit.ledger(gid)).toBe(0);
  });

  test('saga compensate before action, and workflow rollback before action: null compensation, then no hanging', async () => {
    for (const [transType, op] of [
      ['saga', 'compensate'],
      ['workflow', 'rollback'],
    ] as const) {
      const gid = newGid();
      const runs = { n: 0 };
      expect(await kit.call(new BranchBarrier(transType, gid, '01', op), runs)).toBe('null-compensation');
      expect(await kit.call(new BranchBarrier(transType, gid, '01', 'action'), runs)).toBe('duplicate');
      expect(runs.n).toBe(0);
    }
  });

  test('normal order: try then cancel both run, each once', async () => {
    const gid = newGid();
    const tries = { n: 0 };
    const cancels = { n: 0 };
    expect(await kit.call(new BranchBarrier('tcc', gid, '01', 'try'), tries)).toBe('executed');
    expect(await kit.call(new BranchBarrier('tcc', gid, '01', 'cancel'), cancels)).toBe('executed');
    expect(await kit.call(new BranchBarrier('tcc', gid, '01', 'cancel'), cancels)).toBe('duplicate');
    expect(await kit.call(new BranchBarrier('tcc', gid, '01', 'try'), tries)).toBe('duplicate');
    expect([tries.n, cancels.n]).toEqual([1, 1]);
    expect(await kit.ledger(gid)).toBe(2);
  });

  test('the n-th call of a cancel pairs with the n-th call of its try (barrier ids 01, 02)', async () => {
    const gid = newGid();
    const runs = { n: 0 };
    const tryBb = new BranchBarrier('tcc', gid, '01', 'try');
    expect(await kit.call(tryBb, runs)).toBe('executed'); // barrier id 01 only
    const cancelBb = new BranchBarrier('tcc', gid, '01', 'cancel');
    expect(await kit.call(cancelBb, runs)).toBe('executed'); // 01: its try ran
    expect(await kit.call(cancelBb, runs)).toBe('null-compensation'); // 02: no try 02 ever ran
    expect(runs.n).toBe(2);
    expect((await kit.rows(gid)).map((r) => `${r.barrier_id}:${r.op}:${r.reason}`)).toEqual([
      '01:cancel:cancel',
      '01:try:try',
      '02:cancel:cancel',
      '02:try:cancel',
    ]);
  });

  test('business failure rolls back the barrier rows with it, so the retry runs business', async () => {
    const gid = newGid();
    const runs = { n: 0 };
    await expect(kit.call(new BranchBarrier('saga', gid, '01', 'action'), runs, { fail: true })).rejects.toThrow(
      'business failed',
    );
    expect(await kit.rows(gid)).toEqual([]);
    expect(await kit.ledger(gid)).toBe(0);
    expect(await kit.call(new BranchBarrier('saga', gid, '01', 'action'), runs)).toBe('executed');
    expect(runs.n).toBe(2);
    expect(await kit.ledger(gid)).toBe(1);
  });

  test('caller-begun transaction variant behaves the same', async () => {
    const gid = newGid();
    const runs = { n: 0 };
    expect(await kit.callInOwnTx(new BranchBarrier('tcc', gid, '01', 'try'), runs)).toBe('executed');
    expect(await kit.callInOwnTx(new BranchBarrier('tcc', gid, '01', 'try'), runs)).toBe('duplicate');
    expect(runs.n).toBe(1);
    expect(await kit.ledger(gid)).toBe(1);
  });

  test('msg: the local transaction repeated → DtmDuplicated, business once; QueryPrepared then answers OK', async () => {
    const gid = newGid();
    const runs = { n: 0 };
    const msgBarrier = () => new BranchBarrier('msg', gid, '00', 'msg');
    expect(await kit.call(msgBarrier(), runs)).toBe('executed');
    await expect(kit.call(msgBarrier(), runs)).rejects.toBeInstanceOf(DtmDuplicated);
    expect(runs.n).toBe(1);
    expect(await kit.ledger(gid)).toBe(1);
    await expect(kit.queryPrepared(msgBarrier())).resolves.toBeUndefined();
    await expect(kit.queryPrepared(msgBarrier())).resolves.toBeUndefined();
    expect(await kit.rows(gid)).toEqual([
      { trans_type: 'msg', branch_id: '00', op: 'msg', barrier_id: '01', reason: 'msg' },
    ]);
  });

  test('msg: QueryPrepared before the local transaction → FAILURE, and that transaction can no longer commit', async () => {
    const gid = newGid();
    const runs = { n: 0 };
    const msgBarrier = () => new BranchBarrier('msg', gid, '00', 'msg');
    await expect(kit.queryPrepared(msgBarrier())).rejects.toBeInstanceOf(DtmFailure);
    await expect(kit.queryPrepared(msgBarrier())).rejects.toBeInstanceOf(DtmFailure); // stable
    await expect(kit.call(msgBarrier(), runs)).rejects.toBeInstanceOf(DtmDuplicated);
    expect(runs.n).toBe(0);
    expect(await kit.ledger(gid)).toBe(0);
    expect(await kit.rows(gid)).toEqual([
      { trans_type: 'msg', branch_id: '00', op: 'msg', barrier_id: '01', reason: 'rollback' },
    ]);
  });

  test('msg: a local transaction that failed (rolled back) → QueryPrepared FAILURE', async () => {
    const gid = newGid();
    const runs = { n: 0 };
    await expect(kit.call(new BranchBarrier('msg', gid, '00', 'msg'), runs, { fail: true })).rejects.toThrow(
      'business failed',
    );
    await expect(kit.queryPrepared(new BranchBarrier('msg', gid, '00', 'msg'))).rejects.toBeInstanceOf(DtmFailure);
  });
});

test('a gid past the barrier column is refused, not truncated into another gid’s rows (MariaDB insert ignore)', async () => {
  // Found by test/hostile: MySQL's insert ignore cut such gids to 128 characters, so the second of two gids sharing
  // those was skipped as a duplicate — success with its business never run.
  const prefix = newGid().padEnd(128, 'x');
  let runs = 0;
  const call = async (gid: string) =>
    new BranchBarrier('saga', gid, '01', 'action').callWithMysql(mysqlPool, () => {
      runs += 1;
    });
  await expect(call(`${prefix}A`)).rejects.toThrow(/gid of 129 characters \(at most 128\)/);
  await expect(call(`${prefix}B`)).rejects.toBeInstanceOf(DtmInputError);
  expect(runs).toBe(0);
  expect(await mysqlKit.rows(prefix)).toEqual([]);
  expect(() => new BranchBarrier('saga', 'g', '01', 'o'.repeat(46))).toThrow(/op of 46 characters \(at most 45\)/);
});

describe('Redis barrier', () => {
  const EXPIRE = 600;
  async function account(balance: number): Promise<string> {
    const key = `barrier-test-account-${randomUUID()}`;
    await redis.set(key, balance, 'EX', EXPIRE);
    return key;
  }
  const balance = async (key: string) => Number(await redis.get(key));

  test('idempotency: a try delivered twice deducts once', async () => {
    const gid = newGid();
    const key = await account(100);
    expect(await new BranchBarrier('tcc', gid, '01', 'try').redisCheckAdjustAmount(redis, key, -30, EXPIRE)).toBe(
      'executed',
    );
    expect(await new BranchBarrier('tcc', gid, '01', 'try').redisCheckAdjustAmount(redis, key, -30, EXPIRE)).toBe(
      'duplicate',
    );
    expect(await balance(key)).toBe(70);
    expect(await redis.get(`${gid}-01-try-01`)).not.toBeNull();
  });

  test('insufficient or missing balance → DtmFailure, nothing changed', async () => {
    const gid = newGid();
    const key = await account(10);
    const bb = new BranchBarrier('saga', gid, '01', 'action');
    await expect(bb.redisCheckAdjustAmount(redis, key, -11, EXPIRE)).rejects.toBeInstanceOf(DtmFailure);
    await expect(bb.redisCheckAdjustAmount(redis, `${key}-absent`, 5, EXPIRE)).rejects.toBeInstanceOf(DtmFailure);
    expect(await balance(key)).toBe(10);
    expect(await redis.exists(`${gid}-01-action-01`, `${gid}-01-action-02`)).toBe(0);
    // exactly reaching zero is allowed
    expect(await new BranchBarrier('saga', gid, '02', 'action').redisCheckAdjustAmount(redis, key, -10, EXPIRE)).toBe(
      'executed',
    );
    expect(await balance(key)).toBe(0);
  });

  test('null compensation: cancel before try leaves the balance, and the late try is skipped', async () => {
    const gid = newGid();
    const key = await account(100);
    expect(await new BranchBarrier('tcc', gid, '01', 'cancel').redisCheckAdjustAmount(redis, key, 30, EXPIRE)).toBe(
      'null-compensation',
    );
    expect(await balance(key)).toBe(100);
    expect(await redis.get(`${gid}-01-try-01`)).toBe('rollback');
    expect(await new BranchBarrier('tcc', gid, '01', 'try').redisCheckAdjustAmount(redis, key, -30, EXPIRE)).toBe(
      'duplicate',
    );
    expect(await balance(key)).toBe(100);
  });

  test('normal order: try then cancel restores the balance; repeats change nothing', async () => {
    const gid = newGid();
    const key = await account(100);
    const call = (op: string, amount: number) =>
      new BranchBarrier('tcc', gid, '01', op).redisCheckAdjustAmount(redis, key, amount, EXPIRE);
    expect(await call('try', -40)).toBe('executed');
    expect(await balance(key)).toBe(60);
    expect(await call('cancel', 40)).toBe('executed');
    expect(await call('cancel', 40)).toBe('duplicate');
    expect(await call('try', -40)).toBe('duplicate');
    expect(await balance(key)).toBe(100);
  });

  test('saga compensate before action: null compensation', async () => {
    const gid = newGid();
    const key = await account(5);
    const call = (op: string, amount: number) =>
      new BranchBarrier('saga', gid, '03', op).redisCheckAdjustAmount(redis, key, amount, EXPIRE);
    expect(await call('compensate', -5)).toBe('null-compensation');
    expect(await call('action', 5)).toBe('duplicate');
    expect(await balance(key)).toBe(5);
  });

  test('a compensate before its action is a no-op even when the balance could not cover it; the late action too', async () => {
    // Found by test/property/barrier.int.test.ts: the amount was checked first, so this compensate answered
    // FAILURE (retried forever by dtm) and left no marker, and the late action then credited the account.
    const gid = newGid();
    const key = await account(1);
    const call = (op: string, amount: number) =>
      new BranchBarrier('saga', gid, '02', op).redisCheckAdjustAmount(redis, key, amount, EXPIRE);
    expect(await call('compensate', -30)).toBe('null-compensation');
    expect(await call('action', 30)).toBe('duplicate');
    expect(await balance(key)).toBe(1);
  });

  test('a credit past int64 is FAILURE with nothing written, not a barrier key over an unmoved balance', async () => {
    const gid = newGid();
    const key = `barrier-test-account-${randomUUID()}`;
    await redis.set(key, '9223372036854775800', 'EX', EXPIRE);
    const bb = () => new BranchBarrier('saga', gid, '01', 'action');
    await expect(bb().redisCheckAdjustAmount(redis, key, 30, EXPIRE)).rejects.toThrow(/would pass the largest int64/);
    expect(await redis.get(key)).toBe('9223372036854775800');
    expect(await redis.exists(`${gid}-01-action-01`)).toBe(0);
    // before the fix, the retry met the barrier key the failed script had left and answered 'duplicate': success
    await expect(bb().redisCheckAdjustAmount(redis, key, 30, EXPIRE)).rejects.toBeInstanceOf(DtmFailure);
  });

  test('msg: repeated local step → DtmDuplicated, applied once; QueryPrepared → OK', async () => {
    const gid = newGid();
    const key = await account(100);
    const msg = () => new BranchBarrier('msg', gid, '00', 'msg');
    expect(await msg().redisCheckAdjustAmount(redis, key, -20, EXPIRE)).toBe('executed');
    await expect(msg().redisCheckAdjustAmount(redis, key, -20, EXPIRE)).rejects.toBeInstanceOf(DtmDuplicated);
    expect(await balance(key)).toBe(80);
    await expect(msg().queryPreparedRedis(redis, EXPIRE)).resolves.toBeUndefined();
  });

  test('msg: QueryPrepared before the local step → FAILURE, and the late local step is refused', async () => {
    const gid = newGid();
    const key = await account(100);
    const msg = () => new BranchBarrier('msg', gid, '00', 'msg');
    await expect(msg().queryPreparedRedis(redis, EXPIRE)).rejects.toBeInstanceOf(DtmFailure);
    await expect(msg().queryPreparedRedis(redis, EXPIRE)).rejects.toBeInstanceOf(DtmFailure);
    await expect(msg().redisCheckAdjustAmount(redis, key, -20, EXPIRE)).rejects.toBeInstanceOf(DtmDuplicated);
    expect(await balance(key)).toBe(100);
  });

  test('barrier keys expire; bad arguments are refused before touching Redis', async () => {
    const gid = newGid();
    const key = await account(1);
    await new BranchBarrier('tcc', gid, '01', 'cancel').redisCheckAdjustAmount(redis, key, 1, 30);
    for (const k of [`${gid}-01-cancel-01`, `${gid}-01-try-01`]) {
      const ttl = await redis.ttl(k);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(30);
    }
    const bb = new BranchBarrier('tcc', gid, '02', 'try');
    await expect(bb.redisCheckAdjustAmount(redis, key, 1.5, 30)).rejects.toThrow(RangeError);
    await expect(bb.redisCheckAdjustAmount(redis, key, 1, 0)).rejects.toThrow(RangeError);
    await expect(bb.queryPreparedRedis(redis, -1)).rejects.toThrow(RangeError);
    expect(() => new BranchBarrier('tcc', gid, '02', 'try', { redisWaitMs: 0 })).toThrow(/redisWaitMs/);
  });

  test('a hung Redis fails the call within redisWaitMs; the late script still moves the amount once', async () => {
    // A Redis of this test's own, frozen with SIGSTOP (the suite's Redis is shared with other tests).
    const port = await freePort();
    const server = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    const own = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1, retryStrategy: () => 200 });
    own.on('error', () => undefined); // refused until the server listens; eventually() below waits for it
    try {
      await eventually(
        async () => ((await own.ping().catch(() => '')) === 'PONG' ? true : undefined),
        10_000,
        'own Redis',
      );
      const key = `barrier-test-account-${randomUUID()}`;
      await own.set(key, 100, 'EX', EXPIRE);
      const gid = newGid();
      const tryOnce = () =>
        new BranchBarrier('saga', gid, '01', 'action', { redisWaitMs: 300 }).redisCheckAdjustAmount(
          own,
          key,
          -30,
          EXPIRE,
        );
      server.kill('SIGSTOP');
      const started = Date.now();
      await expect(tryOnce()).rejects.toThrow(/Redis did not answer within 300 ms/);
      expect(Date.now() - started).toBeLessThan(2000);
      server.kill('SIGCONT'); // the queued script now runs: dtm's retry must see it as done
      expect(await tryOnce()).toBe('duplicate');
      expect(Number(await own.get(key))).toBe(70);
    } finally {
      own.disconnect();
      server.kill('SIGCONT');
      server.kill('SIGKILL');
    }
  });
});

describe('QueryPrepared over gRPC, called the way dtm calls it', () => {
  // dtm calls QueryPrepared with an empty body and metadata gid / trans_type msg / branch 00 / op msg / dtm ''.
  const raw = { serialize: (b: Buffer) => b, deserialize: (b: Buffer) => b };
  let server: Server;
  let client: Client;

  function handler(check: (bb: BranchBarrier) => Promise<void>) {
    return (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => {
      Promise.resolve()
        .then(() => check(barrierFromGrpc(call)))
        .then(
          () => callback(null, Buffer.alloc(0)),
          (err: unknown) => {
            const e = err instanceof Error ? err : new Error(String(err));
            const code = e instanceof DtmFailure ? status.ABORTED : status.INTERNAL;
            callback({ code, details: e.message });
          },
        );
    };
  }

  beforeAll(async () => {
    server = new Server();
    const method = (name: string) => ({
      path: `/busi.Busi/${name}`,
      requestStream: false,
      responseStream: false,
      requestSerialize: raw.serialize,
      requestDeserialize: raw.deserialize,
      responseSerialize: raw.serialize,
      responseDeserialize: raw.deserialize,
    });
    server.addService(
      {
        QueryPreparedMysql: method('QueryPreparedMysql'),
        QueryPreparedPostgres: method('QueryPreparedPostgres'),
        QueryPreparedRedis: method('QueryPreparedRedis'),
      },
      {
        QueryPreparedMysql: handler((bb) => bb.queryPreparedMysql(mysqlPool)),
        QueryPreparedPostgres: handler((bb) => bb.queryPreparedPostgres(pgPool)),
        QueryPreparedRedis: handler((bb) => bb.queryPreparedRedis(redis, 600)),
      },
    );
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    client = new Client(`127.0.0.1:${port}`, credentials.createInsecure());
  });

  afterAll(async () => {
    client?.close();
    if (server) await stopGrpcServer(server);
  });

  function queryPrepared(method: string, gid: string | undefined): Promise<status> {
    const md = new Metadata();
    if (gid !== undefined) md.set('dtm-gid', gid);
    md.set('dtm-trans_type', 'msg');
    md.set('dtm-branch_id', '00');
    md.set('dtm-op', 'msg');
    md.set('dtm-dtm', '');
    return new Promise((resolve) => {
      client.makeUnaryRequest(`/busi.Busi/${method}`, raw.serialize, raw.deserialize, Buffer.alloc(0), md, (err) =>
        resolve(err ? err.code : status.OK),
      );
    });
  }

  test.each([
    ['QueryPreparedMysql', (bb: BranchBarrier) => bb.callWithMysql(mysqlPool, () => undefined)],
    ['QueryPreparedPostgres', (bb: BranchBarrier) => bb.callWithPostgres(pgPool, () => undefined)],
    [
      'QueryPreparedRedis',
      async (bb: BranchBarrier) => {
        const key = `barrier-test-account-${randomUUID()}`;
        await redis.set(key, 10, 'EX', 600);
        return bb.redisCheckAdjustAmount(redis, key, -1, 600);
      },
    ],
  ] as const)('%s: rolled back → ABORTED, committed → OK, no dtm metadata → error', async (method, commitLocal) => {
    const rolledBack = newGid();
    expect(await queryPrepared(method, rolledBack)).toBe(status.ABORTED);
    const committed = newGid();
    expect(await commitLocal(new BranchBarrier('msg', committed, '00', 'msg'))).toBe('executed');
    expect(await queryPrepared(method, committed)).toBe(status.OK);
    expect(await queryPrepared(method, undefined)).toBe(status.INTERNAL);
  });
});

test('a mysql2 callback pool is refused with a message naming what to pass (mysql2 would crash the process)', async () => {
  // mysql2/promise's pool wraps a callback pool: the shape a user passes by mistake
  const callbackPool = (mysqlPool as unknown as { pool: unknown }).pool as MysqlPool;
  const bb = new BranchBarrier('saga', `cb-${randomUUID()}`, '01', 'action');
  const ran: string[] = [];
  await expect(bb.callWithMysql(callbackPool, async () => ran.push('busi'))).rejects.toThrow(
    /callWithMysql: pool is a mysql2 callback pool or connection; pass its promise API instead: `pool\.promise\(\)`/,
  );
  await expect(bb.queryPreparedMysql(callbackPool)).rejects.toBeInstanceOf(DtmInputError);
  const md = new Metadata();
  for (const [k, v] of Object.entries({ gid: `cb-${randomUUID()}`, trans_type: 'xa', branch_id: '01', op: 'commit' }))
    md.set(`dtm-${k}`, v);
  await expect(xaLocalTransaction(md, { mysql: callbackPool as never }, async () => undefined)).rejects.toThrow(
    /xaLocalTransaction: db\.mysql is a mysql2 callback pool/,
  );
  expect(ran).toEqual([]);
  // the process is still here to run this, and the pool still works
  expect(await bb.callWithMysql(mysqlPool, async () => ran.push('busi'))).toBe('executed');
});

test('XA phase 2 by a user with rights on the barrier table only: an unknown XID is done (MariaDB lets it list XA RECOVER; MySQL 8 refuses, then the Go rule applies)', async () => {
  const { mysql } = testDatabases();
  const user = `xa_${randomUUID().slice(0, 6)}`;
  await mysqlPool.query(`CREATE USER '${user}'@'%' IDENTIFIED BY 'pw'`);
  await mysqlPool.query(`GRANT SELECT, INSERT ON dtm_barrier.* TO '${user}'@'%'`);
  const limited = createPool({ ...mysql, user, password: 'pw', connectionLimit: 2 });
  try {
    // what this server says to XA RECOVER for such a user
    const recover = await limited.query('XA RECOVER').then(
      () => 'allowed',
      (e: { errno?: number }) => `refused ${e.errno}`,
    );
    const md = new Metadata();
    for (const [k, v] of Object.entries({ gid: `xr-${randomUUID()}`, trans_type: 'xa', branch_id: '01', op: 'commit' }))
      md.set(`dtm-${k}`, v);
    await expect(
      xaLocalTransaction(md, { mysql: limited as never }, async () => undefined),
      `XA RECOVER ${recover}`,
    ).resolves.toBeUndefined();
  } finally {
    await limited.end();
    await mysqlPool.query(`DROP USER '${user}'@'%'`);
  }
});

test.each(['mysql', 'postgres'] as const)(
  'XA phase 1 on a drained %s pool: a retriable error within 2.5 s, not a wait with no end',
  { timeout: 20_000 },
  async (kind) => {
    const { mysql, postgres } = testDatabases();
    const mysqlOne = kind === 'mysql' ? createPool({ ...mysql, connectionLimit: 1 }) : undefined;
    const pgOne = kind === 'postgres' ? new PgPool({ ...postgres, max: 1 }) : undefined;
    const held = mysqlOne ? await mysqlOne.getConnection() : await (pgOne as PgPool).connect(); // the only connection
    try {
      const md = new Metadata();
      const fields = { gid: `xd-${randomUUID()}`, trans_type: 'xa', branch_id: '01', op: 'action' };
      for (const [k, v] of Object.entries(fields)) md.set(`dtm-${k}`, v);
      md.set('dtm-dtm', '127.0.0.1:1');
      md.set('dtm-phase2_url', '127.0.0.1:1/busi.Busi/TransOutXa');
      const started = Date.now();
      const db = mysqlOne ? { mysql: mysqlOne as never } : { postgres: pgOne as never };
      const err = await xaLocalTransaction(md, db, async () => undefined).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect((err as Error).message).toMatch(/no answer within 2500 ms; dtm retries the branch/);
      expect(err).not.toBeInstanceOf(DtmFailure); // dtm must retry it, not roll back
      expect(Date.now() - started).toBeLessThan(4000);
    } finally {
      held.release();
      await (mysqlOne ?? pgOne)?.end();
    }
  },
);

test('XA phase 2 whose XA COMMIT cannot get the commit lock: a retriable error within 2.5 s; the retry commits', {
  timeout: 30_000,
}, async () => {
  const gid = `xc-${randomUUID()}`;
  const xid = `${gid}-01`;
  // a prepared XA transaction with one barrier row in it, left by a session that is gone
  const c1 = await mysqlPool.getConnection();
  await c1.query(`XA START '${xid}'`);
  await c1.query(
    "insert ignore into dtm_barrier.barrier(trans_type, gid, branch_id, op, barrier_id, reason) values('xa', ?, '01', 'action', '01', 'action')",
    [gid],
  );
  await c1.query(`XA END '${xid}'`);
  await c1.query(`XA PREPARE '${xid}'`);
  c1.destroy();
  const md = new Metadata();
  for (const [k, v] of Object.entries({ gid, trans_type: 'xa', branch_id: '01', op: 'commit' })) md.set(`dtm-${k}`, v);
  const locker = await mysqlPool.getConnection();
  try {
    await locker.query('FLUSH TABLES WITH READ LOCK'); // every COMMIT now waits, with no server-side bound
    const started = Date.now();
    const err = await xaLocalTransaction(md, { mysql: mysqlPool }, async () => undefined).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as Error)?.message).toMatch(/no answer within 2500 ms; dtm retries the branch/);
    expect(Date.now() - started).toBeLessThan(6000);
  } finally {
    await locker.query('UNLOCK TABLES');
    locker.release();
  }
  await eventually(
    async () => (await xaLocalTransaction(md, { mysql: mysqlPool }, async () => undefined)) ?? true,
    10_000,
    'phase 2 done once the lock is gone',
  );
  const [rows] = await mysqlPool.query('select count(*) as n from dtm_barrier.barrier where gid = ?', [gid]);
  expect(Number((rows as { n: number }[])[0]?.n)).toBe(1); // committed
});
