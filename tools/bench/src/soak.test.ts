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

test('rssTrend compares the peaks of the first and the last tenth; fewer than 10 samples say nothing', () => {
  expect(rssTrend([])).toBeUndefined();
  expect(rssTrend([1, 2, 3, 4, 5, 6, 7, 8, 9])).toBeUndefined();
  // 20 samples: tenths of 2. A saw-tooth's peak counts, not its last value.
  const saw = [100, 120, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 124, 90];
  expect(rssTrend(saw)).toEqual({ firstMiB: 120, lastMiB: 124 });
  // 11 samples: a tenth rounds up to 2, so both ends hold a whole sample more than a tenth, never none.
  expect(rssTrend([5, 1, 1, 1, 1, 1, 1, 1, 1, 1, 7])).toEqual({ firstMiB: 5, lastMiB: 7 });
});

test('the target: flat when the heap grows < 2 MiB and the last tenth peaks < 5 MiB over the first', () => {
  const flat = Array.from({ length: 600 }, (_, i) => 120 + (i % 7)); // a saw-tooth that does not climb
  expect(flatTarget(withSoak(flat))).toMatchObject({ met: true });
  expect(flatTarget(withSoak(flat))?.detail).toBe(
    'heap 16.1 → 16.3 MiB after GC; RSS peak 126 MiB in the first tenth, 126 MiB in the last (600 samples)',
  );
  const climbing = flat.map((v, i) => v + i / 100); // +6 MiB over the soak
  expect(flatTarget(withSoak(climbing))).toMatchObject({ met: false });
  expect(flatTarget(withSoak(flat, [16.1, 18.2]))).toMatchObject({ met: false }); // the heap leaks, RSS not yet
  expect(flatTarget(withSoak(flat, [16.1, undefined]))).toMatchObject({ met: undefined }); // no probe answer: unknown
  expect(flatTarget(withSoak(flat.slice(0, 5)))).toBeUndefined(); // too short to tell
});

test("the tables say what our trans did over the soak, beside the app's heap", () => {
  const r = withSoak([100, 101, 102, 103, 104, 105, 106, 107, 108, 109]);
  const line =
    '; our trans: heap after GC 16.1 → 16.3 MiB, RSS peak 100 MiB in the first tenth and 109 MiB in the last (100–109 MiB over 10 samples)';
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
  expect(svgSoakChart(withSoak([100]))).toBeUndefined();
  const r = compareReport();
  expect(svgSoakChart(r)).toBeUndefined();
});
