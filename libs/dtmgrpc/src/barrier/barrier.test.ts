import { Metadata } from '@grpc/grpc-js';
import { afterEach, describe, expect, test } from 'vitest';
import { DtmDuplicated, DtmFailure, DtmOngoing } from '../errors.ts';
import { BranchBarrier, barrierFrom, barrierFromGrpc, barrierFromMetadata } from './barrier.ts';
import { decide, formatBarrierId, getBarrierTableName, originOp, setBarrierTableName } from './core.ts';

function md(values: Record<string, string>): Metadata {
  const m = new Metadata();
  for (const [k, v] of Object.entries(values)) m.set(k, v);
  return m;
}

const full = { 'dtm-trans_type': 'tcc', 'dtm-gid': 'g1', 'dtm-branch_id': '01', 'dtm-op': 'try', 'dtm-dtm': '' };

describe('barrier identity', () => {
  test('reads the four dtm metadata keys', () => {
    const bb = barrierFromMetadata(md(full));
    expect([bb.transType, bb.gid, bb.branchId, bb.op]).toEqual(['tcc', 'g1', '01', 'try']);
    expect(String(bb)).toBe('transInfo: tcc g1 01 try');
    expect(barrierFromGrpc({ metadata: md(full) }).gid).toBe('g1');
  });

  test('takes the first value of a repeated key', () => {
    const m = md(full);
    m.add('dtm-gid', 'second');
    expect(barrierFromMetadata(m).gid).toBe('g1');
  });

  test.each(['dtm-trans_type', 'dtm-gid', 'dtm-branch_id', 'dtm-op'])('refuses metadata without %s', (key) => {
    const m = md(full);
    m.remove(key);
    expect(() => barrierFromMetadata(m)).toThrow(new RegExp(`invalid trans info: gRPC metadata ${key} missing`));
    const empty = md({ ...full, [key]: '' });
    expect(() => barrierFromMetadata(empty)).toThrow(/invalid trans info/);
  });

  test('names every missing key', () => {
    expect(() => barrierFromMetadata(new Metadata())).toThrow(
      'gRPC metadata dtm-trans_type, dtm-gid, dtm-branch_id, dtm-op missing or empty',
    );
    expect(() => barrierFrom('saga', '', '01', '')).toThrow(/invalid trans info: gid, op empty/);
  });

  test('barrier ids count per object, formatted %02d', () => {
    const bb = new BranchBarrier('saga', 'g', '01', 'action');
    expect(bb.barrierId).toBe(0);
    expect([bb.newBarrierId(), bb.newBarrierId()]).toEqual(['01', '02']);
    expect(bb.barrierId).toBe(2);
    expect(formatBarrierId(7)).toBe('07');
    expect(formatBarrierId(123)).toBe('123');
  });
});

describe('barrier algorithm', () => {
  test('pairs each compensating op with the op it undoes', () => {
    expect(originOp('cancel')).toBe('try');
    expect(originOp('compensate')).toBe('action');
    expect(originOp('rollback')).toBe('action');
    for (const op of ['try', 'confirm', 'action', 'commit', 'msg', 'toString', 'constructor'])
      expect(originOp(op)).toBe('');
  });

  test('decides from the two insert counts', () => {
    expect(decide('try', 0, 1)).toBe('executed');
    expect(decide('try', 0, 0)).toBe('duplicate');
    expect(decide('cancel', 0, 1)).toBe('executed'); // try ran before
    expect(decide('cancel', 1, 1)).toBe('null-compensation'); // try never ran
    expect(decide('cancel', 0, 0)).toBe('duplicate');
    expect(decide('compensate', 1, 0)).toBe('null-compensation');
    expect(decide('msg', 0, 1)).toBe('executed');
    expect(() => decide('msg', 0, 0)).toThrow(DtmDuplicated);
  });
});

describe('barrier table name', () => {
  afterEach(() => setBarrierTableName('dtm_barrier.barrier'));

  test('defaults to dtm_barrier.barrier, can be changed globally or per barrier', () => {
    expect(getBarrierTableName()).toBe('dtm_barrier.barrier');
    expect(new BranchBarrier('tcc', 'g', '01', 'try').tableName()).toBe('dtm_barrier.barrier');
    setBarrierTableName('busi.barrier');
    expect(new BranchBarrier('tcc', 'g', '01', 'try').tableName()).toBe('busi.barrier');
    expect(new BranchBarrier('tcc', 'g', '01', 'try', { barrierTableName: 'b2' }).tableName()).toBe('b2');
  });

  test('refuses names that are not plain identifiers', () => {
    expect(() => setBarrierTableName('x; drop table y')).toThrow(/invalid barrier table name/);
    expect(() => new BranchBarrier('tcc', 'g', '01', 'try', { barrierTableName: 'a.b.c' })).toThrow();
  });
});

describe('errors', () => {
  test('carry dtm result words and names', () => {
    expect(new DtmFailure()).toMatchObject({ name: 'DtmFailure', message: 'FAILURE' });
    expect(new DtmOngoing()).toMatchObject({ name: 'DtmOngoing', message: 'ONGOING' });
    expect(new DtmDuplicated()).toMatchObject({ name: 'DtmDuplicated', message: 'DUPLICATED' });
    expect(new DtmFailure('no stock')).toBeInstanceOf(Error);
  });
});
