import { describe, expect, test } from 'vitest';
import { AdaptiveShedder, type ShedderPromise } from './adaptive-shedder.ts';

function shedder(threshold = 900) {
  let now = 1000;
  let cpu = 0;
  const drops: string[] = [];
  const s = new AdaptiveShedder({
    cpuThreshold: threshold,
    now: () => now,
    cpu: () => cpu,
    onDrop: (l) => drops.push(l),
  });
  return {
    s,
    drops,
    at: (ms: number) => {
      now = ms;
    },
    cpu: (c: number) => {
      cpu = c;
    },
  };
}

/** 10 requests at once, all passing after 10 ms: maxPass 10, minRt 10 → maxFlight 10 · 10 · 0.01 = 1. */
function warmUp(x: ReturnType<typeof shedder>): void {
  x.at(1000);
  const ps = Array.from({ length: 10 }, () => x.s.allow() as ShedderPromise);
  x.at(1010);
  for (const p of ps) p.pass();
  x.at(1150); // the next 100 ms bucket: the warm-up bucket is no longer the (ignored) current one
}

describe("the adaptive shedder, go-zero's adaptiveShedder", () => {
  test('below the CPU threshold nothing is dropped, however many are in flight', () => {
    const x = shedder();
    warmUp(x);
    x.cpu(899);
    for (let i = 0; i < 100; i++) expect(x.s.allow()).toBeDefined();
  });

  test("over the threshold it drops once in-flight and its average exceed maxPass × minRt (go-zero's maxFlight)", () => {
    const x = shedder();
    warmUp(x);
    expect(x.s.stats()).toMatchObject({ maxPass: 10, minRt: 10, maxFlight: 1 });
    x.cpu(950); // overload factor (1000 − 950) / (1000 − 900) = 0.5: room for 0.5 in flight
    expect(x.s.allow()).toBeDefined(); // flying 0 is not over it
    expect(x.s.allow()).toBeUndefined(); // flying 1 and avgFlying 2.37 are
    expect(x.drops[0]).toMatch(
      /^dropreq, cpu: 950, maxPass: 10, minRt: 10\.00, hot: false, flying: 1, avgFlying: 2\.3\d$/,
    );
  });

  test('stays hot for 1 s after an overloaded drop (coolOffDuration), then lets calls in again', () => {
    const x = shedder();
    warmUp(x);
    x.cpu(950);
    const first = x.s.allow();
    expect(first).toBeDefined();
    expect(x.s.allow()).toBeUndefined(); // overloaded at 1150
    x.cpu(0);
    x.at(1500);
    expect(x.s.allow()).toBeDefined(); // flying 2 now; maxFlight 1 at cpu 0
    expect(x.s.allow()).toBeUndefined(); // still hot: dropped though the CPU is idle
    x.at(2151);
    expect(x.s.allow()).toBeDefined(); // cooled off
    expect(x.s.allow()).toBeDefined();
  });

  test('a failed (timed-out) call leaves the latency figures alone; a passed one feeds them', () => {
    const x = shedder();
    warmUp(x);
    const p = x.s.allow() as ShedderPromise;
    x.at(1160);
    p.fail();
    x.at(1250);
    expect(x.s.stats()).toMatchObject({ maxPass: 10, minRt: 10, flying: 0 });
  });
});
