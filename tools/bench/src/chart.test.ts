import { expect, test } from 'vitest';
import { svgChart } from './chart.ts';
import { compareReport, level } from './fixtures.ts';

test('the chart: a bar per combination and level with its tx/s, a legend entry each, labels escaped', () => {
  const r = compareReport();
  r.levels.push({ ...(r.levels[0] as (typeof r.levels)[number]), concurrency: 128 });
  r.combos.go = 'Go app → go-zero <trans> & co';
  const svg = svgChart(r);
  expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="760" height="380"/);
  expect(svg.endsWith('</svg>\n')).toBe(true);
  // bars (with their tooltip): 3 combinations × 2 levels
  expect(svg.match(/<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="[\d.]+" fill="[^"]+"><title>/g)).toHaveLength(6);
  expect(svg).toContain('<title>our app → our trans: 600 tx/s</title>');
  expect(svg).toContain('concurrency 64</text>');
  expect(svg).toContain('concurrency 128</text>');
  expect(svg).toContain('Go app → go-zero &lt;trans&gt; &amp; co');
  expect(svg).not.toContain('<trans>');
  expect(svg).toContain('msg, 2 branches, WaitResult: transactions per second (dtm store redis)');
});

test('the y axis ends on a round figure above the highest bar', () => {
  const r = compareReport();
  r.levels = [{ concurrency: 1, txPerSec: { ours: 1234 }, results: { ours: level(1234) } }];
  r.combos = { ours: 'our app → our trans' };
  const ticks = [...svgChart(r).matchAll(/<text x="54" y="[\d.]+" text-anchor="end">(\d+)<\/text>/g)].map((m) =>
    Number(m[1]),
  );
  expect(ticks).toEqual([0, 400, 800, 1200, 1600, 2000]);
});
