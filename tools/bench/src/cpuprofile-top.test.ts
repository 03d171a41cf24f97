import { expect, test } from 'vitest';
import { top } from './cpuprofile-top.ts';

const frame = (functionName: string, url: string, lineNumber = 0) => ({ functionName, url, lineNumber });

/** (root) → submit (libs/dtmgrpc) → write (grpc-js) → submit again (recursion); and (idle). */
const profile = {
  nodes: [
    { id: 1, callFrame: frame('(root)', ''), children: [2, 5] },
    { id: 2, callFrame: frame('submit', 'file:///repo/libs/dtmgrpc/src/msg.ts', 9), children: [3] },
    {
      id: 3,
      callFrame: frame('write', 'file:///repo/node_modules/@grpc/grpc-js/build/src/call.js', 41),
      children: [4],
    },
    { id: 4, callFrame: frame('submit', 'file:///repo/libs/dtmgrpc/src/msg.ts', 9) },
    { id: 5, callFrame: frame('(idle)', '') },
  ],
  // µs: submit 3 ms self (1 + 2 recursive), write 4 ms self, idle 5 ms
  samples: [2, 3, 4, 5, 3],
  timeDeltas: [1000, 2000, 2000, 5000, 2000],
};

test('self time, inclusive time (recursion counted once) and the share of each package; idle apart', () => {
  const t = top(profile, 10);
  expect(t.totalMs).toBe(12);
  expect(t.idleMs).toBe(5);
  expect(t.self).toEqual([
    ['write src/call.js:42', 4],
    ['submit src/msg.ts:10', 3],
  ]);
  expect(t.inclusive).toEqual([
    ['submit src/msg.ts:10', 7],
    ['write src/call.js:42', 6],
  ]);
  expect(t.byPackage).toEqual([
    ['@grpc/grpc-js', 4],
    ['libs/dtmgrpc', 3],
  ]);
  expect(top(profile, 1).self).toHaveLength(1);
});
