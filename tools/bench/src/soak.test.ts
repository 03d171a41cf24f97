// The soak's figures for our trans: the RSS trend, its target, its line in the tables and its chart.
import { expect, test } from 'vitest';
import { svgSoakChart } from './chart.ts';
import { compareReport, logged } from './fixtures.ts';
import { type BenchReport, rssTrend } from './report.ts';
import { markdownSummary, printTable } from './table.ts';
import { targets } from './targets.ts';

const withSoak = (rssMiB: number[], heap: [number | undefined, number | undefined] = [16.1, 16.3]): BenchReport => {
  const [heapStartMiB, heapEndMiB] = heap;
  const r = compareReport();
  r.soak = {
    seconds: rssMiB.length,
    concurrency: 16,
    heapStartMiB: 15.7,
    heapEndMiB: 16.1,
    tx: 1000,
    errors: 0,
    trans: { heapStartMiB, heapEndMiB, rssMiB },
  };
  r.targets = targets(r);
  return r;
};
const flatTarget = (r: BenchReport) => r.targets.find((t) => t.target.startsWith('our trans stays flat'));
/** A saw-tooth around `base` that climbs `perSample` MiB per sample. */
const saw = (n: number, base: number, perSample = 0): number[] =>
  Array.from({ length: n }, (_, i) => base + (i % 7) + i * perSample);

test('rssTrend: 90th percentiles of the first tenth, the third quarter and the last, and the peak; under 20 samples nothing', () => {
  expect(rssTrend([])).toBeUndefined();
  expect(rssTrend(saw(19, 100))).toBeUndefined();
  // 20 samples: the first tenth is 0–1, the third quarter 10–14, the last 15–19; in 5 samples the 90th percentile is
  // the highest, in 2 as well.
  const s = [100, 120, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 131, 112, 113, 114, 115, 116, 124, 90];
  expect(rssTrend(s)).toEqual({ firstTenthMiB: 120, thirdQuarterMiB: 131, lastQuarterMiB: 124, peakMiB: 131 });
  // 40 samples a quarter: the 36th lowest; one spike in a quarter is above it, a saw-tooth's tops (1 in 7) are not.
  const q = (base: number, spike?: number): number[] =>
    Array.from({ length: 40 }, (_, i) => (i === 20 && spike ? spike : base + (i % 7)));
  const t = rssTrend([...q(100), ...q(100), ...q(100), ...q(100, 180)]);
  expect(t).toEqual({ firstTenthMiB: 106, thirdQuarterMiB: 106, lastQuarterMiB: 106, peakMiB: 180 });
});

test('the target: flat when the heap grows < 2 MiB and the last quarter sits < 5 MiB over the third', () => {
  // Warm-up: 30 MiB of growth in the first fifth, then a plateau — what the allocators do; not a leak.
  const warm = [...saw(120, 120, 0.25), ...saw(480, 150)];
  expect(flatTarget(withSoak(warm))).toMatchObject({ met: true });
  expect(flatTarget(withSoak(warm))?.detail).toBe(
    'heap 16.1 → 16.3 MiB after GC; RSS 156 MiB in the third quarter, 156 MiB in the last (137 MiB in the first tenth; peak 156 MiB; 600 samples)',
  );
  // One second at +8 MiB near the end, then back (what a quiet run's soak showed): a spike, not growth.
  const spiked = [...saw(120, 120, 0.25), ...saw(480, 150)];
  spiked[555] = 164;
  expect(flatTarget(withSoak(spiked))).toMatchObject({ met: true });
  expect(flatTarget(withSoak(spiked))?.detail).toMatch(
    /156 MiB in the last \(137 MiB in the first tenth; peak 164 MiB;/,
  );
  // The same plateau 8 MiB higher from the middle of the last quarter on, as a leak's step would leave it: not flat.
  const stepped = spiked.map((v, i) => (i >= 525 ? v + 8 : v));
  expect(flatTarget(withSoak(stepped))).toMatchObject({ met: false });
  // A leak of 3 MiB a minute (one sample a second) over 10 minutes: +7.5 MiB from one quarter to the next.
  expect(flatTarget(withSoak(saw(600, 120, 0.05)))).toMatchObject({ met: false });
  expect(flatTarget(withSoak(warm, [16.1, 18.2]))).toMatchObject({ met: false }); // the heap leaks, RSS not yet
  expect(flatTarget(withSoak(warm, [16.1, undefined]))).toMatchObject({ met: undefined }); // no probe answer
  expect(flatTarget(withSoak(warm.slice(0, 19)))).toBeUndefined(); // too short to tell
});

test("the tables say what our trans did over the soak, beside the app's heap", () => {
  const r = withSoak(saw(20, 100, 1));
  const line =
    '; our trans: heap after GC 16.1 → 16.3 MiB, RSS (90th percentile) 102 MiB in the first tenth, 119 in the third quarter, 124 in the last (100–124 MiB over 20 samples)';
  expect(markdownSummary(r)).toContain(`15.7 MiB at the start, 16.1 MiB at the end${line}.`);
  expect(logged(() => printTable(r)).join('\n')).toContain(`heap after GC 15.7 → 16.1 MiB${line}`);
  expect(markdownSummary(r)).toMatch(/\| our trans stays flat over the soak .* \| \*\*no\*\* \|/);
});

test('the soak chart: one point per sample on a round y axis, the heap in its caption; none without samples', () => {
  const svg = svgSoakChart(withSoak([100, 130, 121]));
  expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  const points = svg?.match(/<polyline points="([^"]+)"/)?.[1]?.split(' ');
  expect(points).toHaveLength(3);
  // y axis 0–150 (130 rounded up to 50s) over 200 px from y=50: 130 MiB sits at 250 − 130/150·200.
  expect(points?.[1]).toBe(`${(60 + 680 / 2).toFixed(1)},${(250 - (130 / 150) * 200).toFixed(1)}`);
  expect(svg).toContain('>150</text>');
  expect(svg).toContain('heap after a full GC 16.1 → 16.3 MiB');
  // x ticks on a round step: 599 one-second samples → every 100 s, 0 to 500.
  const ticks = [...(svgSoakChart(withSoak(Array(599).fill(120))) ?? '').matchAll(/>(\d+) s</g)].map((m) => m[1]);
  expect(ticks).toEqual(['0', '100', '200', '300', '400', '500']);
  expect(svgSoakChart(withSoak([100]))).toBeUndefined();
  expect(svgSoakChart(compareReport())).toBeUndefined();
});
