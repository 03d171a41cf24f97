import { expect, test } from 'vitest';
import { effectOf } from './effects.ts';

test('a workflow rollback undoes the action; its commit moves nothing more', () => {
  // npm run app -- workflow --fail: TransOut (action) debited, so TransOutRevert (rollback) must credit it back
  expect(effectOf('out', 'action')).toBe('debit');
  expect(effectOf('out', 'rollback')).toBe('credit');
  expect(effectOf('out', 'commit')).toBe('none');
  expect(effectOf('in', 'action')).toBe('credit');
  expect(effectOf('in', 'rollback')).toBe('debit');
  expect(effectOf('in', 'commit')).toBe('none');
});

test('saga and TCC ops keep their effects', () => {
  expect(effectOf('out', 'compensate')).toBe('credit');
  expect(effectOf('out', 'cancel')).toBe('credit');
  expect(effectOf('out', 'confirm')).toBe('none');
  expect(effectOf('in', 'try')).toBe('check');
  expect(effectOf('in', 'confirm')).toBe('credit');
  expect(effectOf('in', 'cancel')).toBe('none');
  expect(effectOf('in', 'compensate')).toBe('debit');
});
