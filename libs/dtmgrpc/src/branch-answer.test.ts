import { status } from '@grpc/grpc-js';
import { afterEach, expect, test, vi } from 'vitest';
import { DtmFailure, DtmInputError, DtmOngoing } from './errors.ts';
import { type BranchInfo, branchAnswer, failureRollsBack, stuckBranchCount } from './server.ts';

const info = (transType: string, op: string): BranchInfo => ({
  gid: 'g1',
  transType,
  branchId: '01',
  op,
  dtm: '',
  phase2Url: '',
});

afterEach(() => vi.restoreAllMocks());

test.each([
  ['saga', 'action', true],
  ['tcc', 'try', true],
  ['xa', 'action', true],
  ['msg', 'msg', true],
  ['workflow', 'action', true],
  ['workflow', 'rollback', false],
  ['saga', 'compensate', false],
  ['tcc', 'confirm', false],
  ['tcc', 'cancel', false],
  ['xa', 'commit', false],
  ['xa', 'rollback', false],
  ['msg', 'action', false],
])('dtm rolls %s back on a FAILURE from op %s: %s', (transType, op, rolls) => {
  expect(failureRollsBack(transType, op)).toBe(rolls);
});

test('FAILURE from a first phase stays ABORTED, without an error line', () => {
  const log = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  expect(branchAnswer(info('saga', 'action'), new DtmFailure('no funds'))).toEqual({
    code: status.ABORTED,
    details: 'no funds',
  });
  expect(log).not.toHaveBeenCalled();
});

test('FAILURE from a second phase: a retriable INTERNAL, one error line naming gid, branch, op, reason; counted', async () => {
  const before = stuckBranchCount();
  const lines: string[] = [];
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
    lines.push(String(s));
    return true;
  });
  const a = branchAnswer(info('saga', 'compensate'), new DtmFailure('account 9 does not exist'));
  expect(a.code).toBe(status.INTERNAL);
  expect(a.details).toMatch(/compensate cannot succeed: account 9 does not exist/);
  expect(stuckBranchCount()).toBe(before + 1);
  await new Promise((r) => setImmediate(r)); // logPrintf writes at the end of the event-loop turn
  expect(lines.join('')).toMatch(
    /ERROR dtm branch cannot succeed: gid=g1 branch=01 op=compensate trans_type=saga reason="account 9 does not exist"/,
  );
});

test('ONGOING keeps its meaning; bad input is INVALID_ARGUMENT; any other error is logged before UNKNOWN', async () => {
  const lines: string[] = [];
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
    lines.push(String(s));
    return true;
  });
  expect(branchAnswer(info('tcc', 'confirm'), new DtmOngoing()).code).toBe(status.FAILED_PRECONDITION);
  expect(branchAnswer(info('', ''), new DtmInputError('no dtm metadata')).code).toBe(status.INVALID_ARGUMENT);
  expect(branchAnswer(info('tcc', 'confirm'), new Error('table dtm_barrier.barrier missing')).code).toBe(
    status.UNKNOWN,
  );
  await new Promise((r) => setImmediate(r));
  expect(lines.join('')).toMatch(/dtm branch error: gid=g1 branch=01 op=confirm .*table dtm_barrier\.barrier missing/);
});
