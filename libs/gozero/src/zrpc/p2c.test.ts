import { experimental, Metadata, status } from '@grpc/grpc-js';
import { expect, test } from 'vitest';
import { choose, NodeStats, P2cPicker } from './p2c.ts';

const node = (name: string, lag: number, inflight: number): { name: string; stats: NodeStats } => {
  const stats = new NodeStats();
  stats.lag = lag;
  stats.inflight = inflight;
  stats.pick = Number(process.hrtime.bigint()); // just picked: no forced pick
  return { name, stats };
};

test('load is √(EWMA latency + 1) × (in-flight + 1), as go-zero computes it', () => {
  expect(node('a', 99, 0).stats.load()).toBe(10);
  expect(node('a', 99, 3).stats.load()).toBe(40);
});

test('of two nodes, the less loaded is chosen', () => {
  const fast = node('fast', 1e6, 0);
  const slow = node('slow', 100e6, 0);
  for (let i = 0; i < 20; i++) expect(choose([slow, fast]).name).toBe('fast');
  const busy = node('busy', 1e6, 50);
  expect(choose([busy, slow]).name).toBe('slow');
});

test('a node not picked for over 1 s is picked once, to refresh its statistics', () => {
  const fast = node('fast', 1e6, 0);
  const slow = node('slow', 100e6, 0);
  slow.stats.pick -= 2e9;
  expect(choose([fast, slow]).name).toBe('slow');
  expect(choose([fast, slow]).name).toBe('fast');
});

test('with more nodes, two are drawn at random; unhealthy ones are avoided when possible', () => {
  const nodes = [node('a', 1e6, 0), node('b', 1e6, 0), node('c', 1e6, 0)];
  (nodes[2] as { stats: NodeStats }).stats.success = 0; // failing: below go-zero's throttle
  const seq = [0.1, 0.9, 0.1, 0.1]; // first draw: a and c (c unhealthy), second: a and b
  let i = 0;
  const chosen = choose(nodes, () => seq[i++ % seq.length] as number);
  expect(['a', 'b']).toContain(chosen.name);
  expect(i).toBe(4);
});

test('a finished call moves latency and success by the EWMA, failures by go-zero codes.Acceptable', () => {
  const s = new NodeStats();
  s.inflight = 1;
  const start = Number(process.hrtime.bigint()) - 5e6;
  s.done(start, 0);
  expect(s.inflight).toBe(0);
  expect(s.lag).toBeGreaterThanOrEqual(5e6); // the first call sets the latency outright
  expect(s.success).toBe(1000);
  s.inflight = 1;
  s.last -= 10e9; // a long pause: the new sample weighs ~63 %
  s.done(Number(process.hrtime.bigint()), 14); // UNAVAILABLE counts as a failure
  expect(s.success).toBeLessThan(400);
  expect(s.healthy()).toBe(false);
});

test('a pick grpc-js drops (it picks again when the subchannel left READY) leaves nothing in flight', () => {
  const stats = new NodeStats();
  const child = {
    pick: (): experimental.PickResult => ({
      pickResultType: experimental.PickResultType.COMPLETE,
      subchannel: null,
      status: null,
      onCallStarted: null,
      onCallEnded: null,
    }),
  };
  const picker = new P2cPicker([{ picker: child, stats }]);
  const args = { metadata: new Metadata(), extraPickInfo: {} };
  picker.pick(args); // dropped: never started, never ended
  picker.pick(args);
  expect(stats.inflight).toBe(0);
  const used = picker.pick(args);
  used.onCallStarted?.();
  expect(stats.inflight).toBe(1);
  used.onCallEnded?.(status.OK, '', new Metadata());
  expect(stats.inflight).toBe(0);
  expect(stats.lag).toBeGreaterThanOrEqual(0);
});
