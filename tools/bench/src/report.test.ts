import { expect, test } from 'vitest';
import { level } from './fixtures.ts';
import { levelReport } from './report.ts';

test("a level's ratios: our stack, the localGid row, each side and the ceiling, all over the Go stack or the ceiling", () => {
  const l = levelReport(64, {
    ours: level(600),
    go: level(800),
    tsGo: level(400),
    goTs: level(1000),
    ceiling: level(1200),
    oursLocal: level(700),
  });
  expect(l.txPerSec).toEqual({ ours: 600, go: 800, tsGo: 400, goTs: 1000, ceiling: 1200, oursLocal: 700 });
  expect(Object.keys(l.txPerSec)).toEqual(['ours', 'go', 'tsGo', 'goTs', 'ceiling', 'oursLocal']); // run order
  expect(l).toMatchObject({ ratio: 0.75, localRatio: 0.875, clientRatio: 0.5, serverRatio: 1.25, ofCeiling: 0.5 });
});

test('without --compare only our stack ran: no ratio, and no division by a Go stack that made 0 tx/s', () => {
  const ours = levelReport(1, { ours: level(100) });
  expect(ours.txPerSec).toEqual({ ours: 100 });
  expect([ours.ratio, ours.localRatio, ours.clientRatio, ours.serverRatio, ours.ofCeiling]).toEqual([
    undefined,
    undefined,
    undefined,
    undefined,
    undefined,
  ]);
  expect(levelReport(1, { ours: level(100), go: level(0) }).ratio).toBeUndefined();
});
