import { freePort } from '@dtm-gozero/devkit';
import { Metadata, status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { branchMetadata } from '../branch.ts';
import { closeConnections } from '../conn.ts';
import { DtmError, DtmInputError } from '../errors.ts';
import type { XaDb } from './contract.ts';
import { xaBranchInfo, xaLocalTransaction } from './local.ts';
import { XaGrpc, xaGlobalTransaction } from './xa.ts';

// Unit tests: what the xa client checks before sending or touching a database, and the pure parts. What it sends to
// dtm (Prepare → Submit, options, Abort's rollback reason, an aborted global after a refused branch) is checked
// against the real dtm in xa.int.test.ts. The dtm address here is a closed loopback port: a call that got as far
// as the network would fail with a connection error (a plain DtmError), not with DtmInputError.
let dtm: string;
beforeAll(async () => {
  dtm = `127.0.0.1:${await freePort()}`; // nothing listens: a call that reaches the network fails there
});
afterAll(() => {
  closeConnections();
});

describe('xaGlobalTransaction (global side)', () => {
  test('the closed dtm port: valid input does try Prepare, and fails with a connection error; fn never runs', async () => {
    let ran = false;
    const err = await xaGlobalTransaction(
      dtm,
      'g-valid',
      async () => {
        ran = true;
      },
      (xa) => {
        xa.options.callTimeoutMs = 5000;
      },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DtmError);
    expect(err).not.toBeInstanceOf(DtmInputError);
    expect((err as DtmError).code).toBe(status.UNAVAILABLE);
    expect((err as Error).message).toMatch(/dtm Prepare via/);
    expect(ran).toBe(false);
  });

  test('branch metadata: dtm keys, branch headers, phase-2 URL', () => {
    const xa = new XaGrpc('localhost:36790', 'g-md');
    xa.options.branchHeaders = { 'x-tenant': 't1' };
    expect(branchMetadata(xa, '01', 'action', '127.0.0.1:1/busi.Busi/XaTransOut')).toEqual({
      'dtm-gid': 'g-md',
      'dtm-trans_type': 'xa',
      'dtm-branch_id': '01',
      'dtm-op': 'action',
      'dtm-dtm': 'localhost:36790',
      'x-tenant': 't1',
      'dtm-phase2_url': '127.0.0.1:1/busi.Busi/XaTransOut',
    });
    expect([xa.newSubBranchId(), xa.newSubBranchId()]).toEqual(['01', '02']);
  });
});

describe('xa bad input: DtmInputError, nothing sent', () => {
  test('empty gid, empty dtm, no function', async () => {
    let ran = false;
    const fn = async () => {
      ran = true;
    };
    const cases: [Promise<void>, RegExp][] = [
      [xaGlobalTransaction(dtm, '', fn), /gid is empty/],
      [xaGlobalTransaction('', 'g', fn), /dtm address is empty/],
      [xaGlobalTransaction(dtm, 'g', undefined as never), /function/],
    ];
    for (const [p, re] of cases) {
      const err = await p.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DtmInputError);
      expect((err as Error).message).toMatch(re);
    }
    expect(ran).toBe(false);
  });
});

describe('xaLocalTransaction (RM side) bad input: refused before touching the database', () => {
  const used: string[] = [];
  const spy = new Proxy(
    {},
    {
      get: (_t, p) => () => {
        used.push(String(p));
        throw new Error(`database used: ${String(p)}`);
      },
    },
  );
  const dbs: XaDb<never>[] = [{ mysql: spy as never }, { postgres: spy as never }];
  const md = (kv: Record<string, string>) => {
    const m = new Metadata();
    for (const [k, v] of Object.entries(kv)) m.set(k, v);
    return m;
  };
  const good = {
    'dtm-gid': 'g1',
    'dtm-trans_type': 'xa',
    'dtm-branch_id': '01',
    'dtm-op': 'action',
    'dtm-dtm': 'localhost:36790',
    'dtm-phase2_url': '127.0.0.1:1/busi.Busi/XaTransOut',
  };
  const cases: [string, Record<string, string>, RegExp][] = [
    ['no dtm metadata at all', {}, /metadata lacks gid, branchId, op/],
    ['no gid', { ...good, 'dtm-gid': '' }, /lacks gid/],
    ['a tcc call', { ...good, 'dtm-trans_type': 'tcc' }, /belongs to a 'tcc' transaction, not an xa one/],
    ['an unknown trans type', { ...good, 'dtm-trans_type': 'xyz' }, /'xyz' transaction, not an xa one/],
    ['no trans type', { ...good, 'dtm-trans_type': '' }, /not an xa one/],
    ['an unknown op', { ...good, 'dtm-op': 'try' }, /unknown op 'try'.*action, commit, rollback/],
    ['phase 1 without phase2_url', { ...good, 'dtm-phase2_url': '' }, /lacks dtm-phase2_url/],
    ['phase 1 without the dtm address', { ...good, 'dtm-dtm': '' }, /lacks dtm-dtm/],
    ['a gid with a quote', { ...good, 'dtm-gid': "g'1" }, /quote/],
  ];
  for (const [name, kv, re] of cases) {
    test(name, async () => {
      for (const db of dbs) {
        let ran = false;
        const err = await xaLocalTransaction({ metadata: md(kv) }, db, async () => {
          ran = true;
        }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(DtmInputError);
        expect((err as Error).message).toMatch(re);
        expect(ran).toBe(false);
      }
      expect(used).toEqual([]);
    });
  }

  test('an xa id over MySQL’s 64 bytes', async () => {
    const err = await xaLocalTransaction(
      md({ ...good, 'dtm-gid': 'g'.repeat(70) }),
      dbs[0]!,
      async () => undefined,
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DtmInputError);
    expect((err as Error).message).toMatch(/longer than MySQL's limit of 64 bytes/);
    expect(used).toEqual([]);
  });

  test('not a call, or not a database', async () => {
    await expect(xaLocalTransaction({} as never, dbs[0]!, async () => undefined)).rejects.toThrow(
      /call \(ServerUnaryCall\) or its Metadata/,
    );
    await expect(xaLocalTransaction(md(good), {} as never, async () => undefined)).rejects.toThrow(
      /db must be \{ mysql/,
    );
    expect(used).toEqual([]);
  });

  test('phase-2 metadata (from dtm: no dtm address, no phase2_url) is accepted', () => {
    const info = xaBranchInfo(md({ ...good, 'dtm-op': 'commit', 'dtm-dtm': '', 'dtm-phase2_url': '' }));
    expect(info).toMatchObject({ gid: 'g1', branchId: '01', op: 'commit', transType: 'xa' });
  });

  test('DtmInputError is a DtmError', () => {
    expect(new DtmInputError('x')).toBeInstanceOf(DtmError);
  });
});

describe('xaLocalTransaction on a Postgres without prepared transactions', () => {
  // The project's Postgres (scripts/db.sh) has max_prepared_transactions = 10, so this path cannot run against it:
  // the pool below answers the one question phase 1 asks first, with what a default Postgres answers (0), and
  // refuses anything else — no connection may be taken, no local work run.
  test('phase 1 fails with a clear error before any work', async () => {
    const used: string[] = [];
    const pool = {
      query: async (sql: string) => {
        if (/current_setting\('max_prepared_transactions'\)/.test(sql)) return { rows: [{ n: 0 }], rowCount: 1 };
        used.push(sql);
        throw new Error(`unexpected query: ${sql}`);
      },
      connect: async () => {
        used.push('connect');
        throw new Error('connection taken');
      },
    };
    const md = new Metadata();
    for (const [k, v] of Object.entries({
      'dtm-gid': 'g-pg0',
      'dtm-trans_type': 'xa',
      'dtm-branch_id': '01',
      'dtm-op': 'action',
      'dtm-dtm': dtm,
      'dtm-phase2_url': '127.0.0.1:1/busi.Busi/XaTransOut',
    }))
      md.set(k, v);
    let ran = false;
    const err = await xaLocalTransaction(md, { postgres: pool as never }, async () => {
      ran = true;
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DtmError);
    expect((err as Error).message).toMatch(
      /xa on Postgres needs prepared transactions, but the server has max_prepared_transactions = 0; start it with -c max_prepared_transactions=/,
    );
    expect(ran).toBe(false);
    expect(used).toEqual([]);
  });
});
