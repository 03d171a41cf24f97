// The targets a run is judged against (issue #22's): our stack's throughput and CPU against the Go stack's, our
// app's latency, the ceiling, failures, and our trans's memory. Each says whether it was met and what was measured.
import { type BenchReport, type ComboLevel, OUR_TRANS, rssTrend } from './report.ts';
import { fixed, over } from './table.ts';

/** The targets of a report, from its figures (again after `--render`, when a target changes). */
export function targets(r: BenchReport): BenchReport['targets'] {
  const out: BenchReport['targets'] = [];
  const L = r.levels;
  if (L.every((l) => l.ratio !== undefined)) {
    const like = r.combos.oursLocal ? ', like for like (both apps NewGid + Submit)' : '';
    out.push({
      target: `our stack ≥ 1.0× the Go stack's tx/s at every level${like} (${r.store})`,
      met: L.every((l) => (l.ratio as number) >= 1),
      detail:
        L.map((l) => `${l.concurrency}: ${fixed(l.ratio, 2)}×`).join(', ') +
        (like ? `; with localGid: ${L.map((l) => `${fixed(l.localRatio, 2)}×`).join(', ')}` : '') +
        floorBeside(L.map((l) => fixed(l.floorRatio, 2))),
    });
    const cpu = L.map(
      (l) => [l.concurrency, l.results.goTs?.transCpuMsPerCall, l.results.go?.transCpuMsPerCall] as const,
    );
    const bareCpu = L.map((l) => over(l.results.bareNode?.transCpuMsPerCall, l.results.go?.transCpuMsPerCall));
    out.push({
      target: "our trans CPU per call ≤ 1.0× go-zero's",
      met: cpu.every(([, a, b]) => a !== undefined && b !== undefined && a <= b),
      detail:
        cpu.map(([c, a, b]) => `${c}: ${fixed(a, 3)} vs ${fixed(b, 3)} ms (${over(a, b)}×)`).join(', ') +
        bareBeside(bareCpu),
    });
    // Issue #22's tail target, with what a bare grpc-js server's p99 is to go-zero's trans under the same Go app.
    const tail = L.filter((l) => l.concurrency === 16 || l.concurrency === 64);
    if (tail.length > 0)
      out.push({
        target: "our stack's p99 ≤ 1.2× the Go stack's at concurrency 16 and 64",
        met: tail.every((l) => l.results.ours && l.results.go)
          ? tail.every((l) => (l.results.ours as ComboLevel).p99Ms <= 1.2 * (l.results.go as ComboLevel).p99Ms)
          : undefined,
        detail:
          tail
            .map(
              (l) =>
                `${l.concurrency}: ${fixed(l.results.ours?.p99Ms, 1)} vs ${fixed(l.results.go?.p99Ms, 1)} ms (${over(l.results.ours?.p99Ms, l.results.go?.p99Ms)}×)`,
            )
            .join(', ') +
          bareBeside(tail.map((l) => over(l.results.bareNode?.p99Ms, l.results.go?.p99Ms))) +
          floorBeside(tail.map((l) => over(l.results.nodeFloor?.p99Ms, l.results.go?.p99Ms))),
      });
    const c1 = L.find((l) => l.concurrency === 1);
    if (c1) {
      const a = c1.results.tsGo?.p50Ms;
      const b = c1.results.go?.p50Ms;
      out.push({
        target: "our app's p50 ≤ 1.1× the Go app's at concurrency 1",
        met: a !== undefined && b !== undefined ? a <= 1.1 * b : undefined,
        detail: `${fixed(a, 2)} vs ${fixed(b, 2)} ms (${over(a, b)}×)`,
      });
    }
    const c64 = L.find((l) => l.concurrency === 64);
    if (c64)
      out.push({
        target: 'our stack ≥ 0.9× the ceiling at concurrency 64',
        met: c64.ofCeiling !== undefined ? c64.ofCeiling >= 0.9 : undefined,
        detail: `${fixed(c64.ofCeiling, 2)}×`,
      });
  }
  const failed = L.flatMap((l) =>
    Object.entries(l.results).map(([id, v]) => [l.concurrency, id, v?.errors ?? 0] as const),
  );
  // Our stack's failures are the target; the other combinations' are reported beside it (go-zero's trans sheds load
  // with "service overloaded" when the machine's CPU passes 90%, and dtm's WaitResult reports that to the app).
  const others = failed.filter(([, id, n]) => id !== 'ours' && n > 0);
  const ours = failed.filter(([, id, n]) => id === 'ours' && n > 0);
  out.push({
    target: '0 failed transactions at every level (our stack)',
    met: ours.length === 0,
    detail:
      (ours.map(([c, , n]) => `our stack at ${c}: ${n}`).join(', ') || 'our stack: none') +
      (others.length > 0
        ? `; elsewhere: ${others.map(([c, id, n]) => `${r.combos[id]} at ${c}: ${n}`).join(', ')}`
        : ''),
  });
  const idle = r.transIdleRssMiB?.ts;
  if (idle !== undefined)
    out.push({
      target: 'our trans RSS ≤ 60 MiB idle',
      met: idle <= 60,
      detail: `${fixed(idle, 0)} MiB${beside(r.transIdleRssMiB?.go, r.transIdleRssMiB?.bareNode)}`,
    });
  const at64 = L.find((l) => l.concurrency === 64);
  const peaks64 = OUR_TRANS.map((id) => at64?.results[id]?.transRssPeakMiB).filter((v) => v !== undefined);
  if (peaks64.length > 0)
    out.push({
      target: 'our trans RSS ≤ 100 MiB at concurrency 64',
      met: Math.max(...peaks64) <= 100,
      detail: `peak ${fixed(Math.max(...peaks64), 0)} MiB${beside(at64?.results.go?.transRssPeakMiB, at64?.results.bareNode?.transRssPeakMiB)}`,
    });
  if (r.soak)
    out.push({
      target: "our client's heap stays flat over the soak",
      met: r.soak.heapEndMiB - r.soak.heapStartMiB < 2,
      detail: `${fixed(r.soak.heapStartMiB, 1)} → ${fixed(r.soak.heapEndMiB, 1)} MiB after GC over ${r.soak.tx} tx`,
    });
  const trend = r.soak?.trans && rssTrend(r.soak.trans.rssMiB);
  if (r.soak?.trans && trend) {
    const { heapStartMiB: h0, heapEndMiB: h1 } = r.soak.trans;
    const heapGrew = h0 !== undefined && h1 !== undefined ? h1 - h0 >= 2 : undefined;
    out.push({
      target:
        "our trans stays flat over the soak (heap after GC grows < 2 MiB; RSS of the last quarter < 5 MiB over the third quarter's, each quarter's 90th percentile)",
      met: heapGrew === undefined ? undefined : !heapGrew && trend.lastQuarterMiB - trend.thirdQuarterMiB < 5,
      detail: `heap ${fixed(h0, 1)} → ${fixed(h1, 1)} MiB after GC; RSS ${fixed(trend.thirdQuarterMiB, 0)} MiB in the third quarter, ${fixed(trend.lastQuarterMiB, 0)} MiB in the last (${fixed(trend.firstTenthMiB, 0)} MiB in the first tenth; peak ${fixed(trend.peakMiB, 0)} MiB; ${r.soak.trans.rssMiB.length} samples)`,
    });
  }
  return out;
}

/** What the memory targets are read beside: go-zero's trans, and the bare grpc-js server (Node's own floor). */
function beside(gozero: number | undefined, bareNode: number | undefined): string {
  const parts = [
    gozero === undefined ? undefined : `go-zero's trans: ${fixed(gozero, 0)} MiB`,
    bareNode === undefined ? undefined : `a bare grpc-js server: ${fixed(bareNode, 0)} MiB`,
  ].filter((x) => x !== undefined);
  return parts.length > 0 ? ` (${parts.join('; ')})` : '';
}

/** The bare grpc-js server's ratios to go-zero's trans (under the Go app), level by level, where the run had it. */
function bareBeside(ratios: string[]): string {
  return ratios.some((x) => x !== '–')
    ? `; a bare grpc-js server: ${ratios.map((x) => `${x}×`).join(', ')} go-zero's trans`
    : '';
}

/** The Node floor's ratios to the Go stack (no code of ours on either side), level by level, where the run had it. */
function floorBeside(ratios: string[]): string {
  return ratios.some((x) => x !== '–')
    ? `; the Node floor (a bare grpc-js app → a bare grpc-js server): ${ratios.map((x) => `${x}×`).join(', ')} the Go stack's`
    : '';
}
