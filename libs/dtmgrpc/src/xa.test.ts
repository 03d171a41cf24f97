import { Metadata } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { closeConnections } from './conn.ts';
import { DtmError, DtmInputError } from './errors.ts';
import type { DtmRequest } from './gen/dtmgimp.ts';
import type { UnaryMethod } from './method.ts';
import { busiMethod } from './testing/busi.ts';
import { type RecordingDtm, startRecordingDtm } from './testing/recording-dtm.ts';
import { type XaDb, XaGrpc, xaBranchInfo, xaGlobalTransaction, xaLocalTransaction } from './xa.ts';

const r1 = { Amount: 30, UserID: 1 };
let dtm: RecordingDtm;
beforeAll(async () => {
  dtm = await startRecordingDtm();
});
afterAll(async () => {
  closeConnections();
  await dtm.stop();
});
const sent = (gid: string) =>
  dtm.calls.filter((c) => (c.request as DtmRequest).Gid === gid) as { rpc: string; request: DtmRequest }[];

describe('xaGlobalTransaction (global side)', () => {
  test('Prepare → fn → Submit, with the options set by custom', async () => {
    let inside: string[] = [];
    await xaGlobalTransaction(
      dtm.target,
      'g-ok',
      async () => {
        inside = sent('g-ok').map((c) => c.rpc);
      },
      (xa) => {
        xa.options.timeoutToFail = 20;
        xa.options.waitResult = true;
      },
    );
    expect(inside).toEqual(['prepare']);
    const calls = sent('g-ok');
    expect(calls.map((c) => c.rpc)).toEqual(['prepare', 'submit']);
    expect(calls[0]!.request).toMatchObject({ TransType: 'xa', Steps: '', BinPayloads: [] });
    expect(calls[1]!.request.TransOptions).toMatchObject({ TimeoutToFail: 20, WaitResult: true });
  });

  test('fn throws → Abort with the error as rollback reason, and the error is rethrown', async () => {
    await expect(
      xaGlobalTransaction(dtm.target, 'g-abort', async () => {
        throw new Error('no stock');
      }),
    ).rejects.toThrow('no stock');
    const calls = sent('g-abort');
    expect(calls.map((c) => c.rpc)).toEqual(['prepare', 'abort']);
    expect(calls[1]!.request.RollbackReason).toBe('no stock');
  });

  test('branch metadata: dtm keys, branch headers, phase-2 URL', () => {
    const xa = new XaGrpc('localhost:36790', 'g-md');
    xa.options.branchHeaders = { 'x-tenant': 't1' };
    expect(xa.branchMetadata('01', 'action', '127.0.0.1:1/busi.Busi/XaTransOut')).toEqual({
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

describe('xa bad input: typed errors, nothing submitted', () => {
  test('empty gid, empty dtm, no function', async () => {
    const n = dtm.calls.length;
    await expect(xaGlobalTransaction(dtm.target, '', async () => undefined)).rejects.toThrow(DtmInputError);
    await expect(xaGlobalTransaction(dtm.target, '', async () => undefined)).rejects.toThrow(/gid is empty/);
    await expect(xaGlobalTransaction('', 'g', async () => undefined)).rejects.toThrow(/dtm address is empty/);
    await expect(xaGlobalTransaction(dtm.target, 'g', undefined as never)).rejects.toThrow(/function/);
    expect(dtm.calls.length).toBe(n);
  });

  test('a streaming descriptor or a bad URL: the branch is never called, the global is aborted, not submitted', async () => {
    const streaming = { ...busiMethod('S'), requestStream: true } as unknown as UnaryMethod<typeof r1, unknown>;
    const err = await xaGlobalTransaction(dtm.target, 'g-stream', async (xa) => {
      await xa.callBranch('127.0.0.1:1', streaming, r1);
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DtmInputError);
    expect((err as Error).message).toMatch(/streaming method/);
    expect(sent('g-stream').map((c) => c.rpc)).toEqual(['prepare', 'abort']);

    const err2 = await xaGlobalTransaction(dtm.target, 'g-url', async (xa) => {
      await xa.callBranchUrl('no-method-path', new Uint8Array());
    }).catch((e: unknown) => e);
    expect(err2).toBeInstanceOf(DtmInputError);
    expect(sent('g-url').map((c) => c.rpc)).toEqual(['prepare', 'abort']);
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
