import { AdjustInfo, TransSvcService } from '@dtm-gozero/proto/trans';
import { afterAll, describe, expect, test } from 'vitest';
import { branchMetadata, typedBranch, urlBranch } from './branch.ts';
import { closeConnections } from './conn.ts';
import { DtmError, DtmInputError } from './errors.ts';
import type { UnaryMethod } from './method.ts';
import { MsgGrpc } from './msg.ts';
import { SagaGrpc } from './saga.ts';
import { TccGrpc } from './tcc.ts';

afterAll(() => closeConnections());

const busi = 'etcd://127.0.0.1:2379/trans';

describe('typed branches', () => {
  test('descriptor + message give the URL and bytes the Go example sends', () => {
    const b = typedBranch(busi, TransSvcService.transOut, { Amount: 30n, UserID: 1n });
    expect(b.url).toBe('etcd://127.0.0.1:2379/trans/trans.TransSvc/TransOut');
    expect(b.server).toBe(busi);
    expect(b.method).toBe('/trans.TransSvc/TransOut');
    // Same bytes as busi.BusiReq{Amount: 30n, UserId: 1} in Go: 08 1E 10 01.
    expect(b.payload.toString('hex')).toBe('081e1001');
    expect(typedBranch(busi, TransSvcService.transIn, { Amount: 30n, UserID: 2n }).payload.toString('base64')).toBe(
      'CB4QAg==',
    );
  });

  test('a Go-style URL with encoded bytes gives the same branch', () => {
    const bytes = AdjustInfo.encode({ Amount: 30n, UserID: 1n }).finish();
    expect(urlBranch(`${busi}/trans.TransSvc/TransOut`, bytes)).toEqual(
      typedBranch(busi, TransSvcService.transOut, { Amount: 30n, UserID: 1n }),
    );
  });

  test('a streaming method is refused', () => {
    const streaming = { ...TransSvcService.transOut, responseStream: true } as unknown as UnaryMethod<
      AdjustInfo,
      unknown
    >;
    expect(() => typedBranch(busi, streaming, { Amount: 1n, UserID: 1n })).toThrow(
      /streaming method; dtm can only call unary/,
    );
  });

  test('a payload that is not the method’s message is refused', () => {
    expect(() => typedBranch(busi, TransSvcService.transOut, 'thirty' as unknown as AdjustInfo)).toThrow(DtmInputError);
  });

  test('an empty server or a malformed URL is refused', () => {
    expect(() => typedBranch('', TransSvcService.transOut, { Amount: 1n, UserID: 1n })).toThrow(
      /branch server is empty/,
    );
    expect(() => urlBranch(`${busi}/TransOut`, new Uint8Array())).toThrow(/not \/<proto package>/);
    expect(() => urlBranch('etcd:///127.0.0.1:2379?key=trans/trans.TransSvc/TransOut', new Uint8Array())).toThrow(
      DtmInputError,
    );
  });
});

describe('a request is serialized once per branch', () => {
  /** The method with a serializer that counts its calls. */
  const counted = (m: UnaryMethod<AdjustInfo, unknown>, calls: string[]): UnaryMethod<AdjustInfo, unknown> => ({
    ...m,
    requestSerialize: (v: AdjustInfo) => {
      calls.push(m.path);
      return m.requestSerialize(v);
    },
  });

  test('TCC: the try serializes it; confirm and cancel are only URLs for dtm', async () => {
    const calls: string[] = [];
    const tcc = new TccGrpc('127.0.0.1:1', 'g-tcc-once'); // nothing listens: the register fails after the build
    tcc.options.callTimeoutMs = 5000;
    const methods = {
      try: counted(TransSvcService.transOut, calls),
      confirm: counted(TransSvcService.transOutConfirm, calls),
      cancel: counted(TransSvcService.transOutRevert, calls),
    };
    await expect(tcc.callBranch(busi, methods, { Amount: 30n, UserID: 1n })).rejects.toBeInstanceOf(DtmError);
    expect(calls).toEqual(['/trans.TransSvc/TransOut']);
  });

  test('saga: the action serializes it; the compensation is only a URL', () => {
    const calls: string[] = [];
    const saga = new SagaGrpc('127.0.0.1:1', 'g-saga-once').add(
      busi,
      { action: counted(TransSvcService.transOut, calls), compensate: counted(TransSvcService.transOutRevert, calls) },
      { Amount: 30n, UserID: 1n },
    );
    expect(calls).toEqual(['/trans.TransSvc/TransOut']);
    expect(saga.steps[0]?.compensateUrl).toBe(`${busi}/trans.TransSvc/TransOutRevert`);
  });
});

describe('MsgGrpc input checks (nothing is sent)', () => {
  test('empty gid and empty dtm', () => {
    expect(() => new MsgGrpc('localhost:36790', '')).toThrow(/gid is empty/);
    expect(() => new MsgGrpc('', 'g')).toThrow(/dtm address is empty/);
  });

  test('no branches', async () => {
    await expect(new MsgGrpc('localhost:1', 'g').submit()).rejects.toThrow(/no branches; add at least one/);
  });
});

describe('branch metadata (one builder for msg back-checks, tcc tries, xa phase 1, nested tcc)', () => {
  test("dtm's keys and the branch headers; a header never replaces a dtm key, whatever its case", () => {
    const tcc = new TccGrpc('localhost:36790', 'g1');
    tcc.options.branchHeaders = { 'x-tenant': 't1', 'dtm-gid': 'other', 'DTM-Branch_ID': '99' };
    expect(branchMetadata(tcc, '01', 'try', `${busi}/trans.TransSvc/TransOut`)).toEqual({
      'x-tenant': 't1',
      'dtm-gid': 'g1',
      'dtm-trans_type': 'tcc',
      'dtm-branch_id': '01',
      'dtm-op': 'try',
      'dtm-dtm': 'localhost:36790',
    });
  });

  test('msg carries the headers too (its QueryPrepared back-check)', () => {
    const m = new MsgGrpc('localhost:36790', 'g2');
    m.options.branchHeaders = { 'x-tenant': 't2' };
    expect(branchMetadata(m, '00', 'msg', `${busi}/trans.TransSvc/QueryPrepared`)).toMatchObject({
      'x-tenant': 't2',
      'dtm-branch_id': '00',
      'dtm-op': 'msg',
    });
  });
});
