// The SVG chart of `npm run bench`: tx/s per concurrency level, one bar per combination (and the ceiling).
import type { BenchReport, ComboLevel } from '../bench.ts';
import type { RuntimeStats } from './bench-probe.ts';

const COLORS: Record<string, string> = {
  ours: '#3178c6',
  go: '#00add8',
  tsGo: '#8fb8e8',
  goTs: '#7fd6ea',
  ceiling: '#b0b0b0',
  oursLocal: '#1b4f8f',
};

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function svgChart(r: BenchReport): string {
  const ids = Object.keys(r.combos);
  const W = 760;
  const H = 380;
  const left = 60;
  const right = 20;
  const top = 50;
  const bottom = 90;
  const plotW = W - left - right;
  const plotH = H - top - bottom;
  const max = Math.max(1, ...r.levels.flatMap((l) => Object.values(l.txPerSec).map((v) => v ?? 0)));
  const step = 10 ** Math.floor(Math.log10(max));
  const yMax = Math.ceil(max / step) * step;
  const y = (v: number): number => top + plotH - (v / yMax) * plotH;
  const groupW = plotW / Math.max(1, r.levels.length);
  const barW = Math.min(40, (groupW * 0.8) / ids.length);
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
  );
  out.push(
    `<title>${esc(`npm run bench: tx/s per concurrency level, ${ids.map((id) => r.combos[id]).join('; ')}`)}</title>`,
  );
  out.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  out.push(
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${esc(`${r.mode}, 2 branches, WaitResult: transactions per second (dtm store ${r.store})`)}</text>`,
  );
  for (let i = 0; i <= 5; i++) {
    const v = (yMax / 5) * i;
    out.push(`<line x1="${left}" x2="${W - right}" y1="${y(v)}" y2="${y(v)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end">${Math.round(v)}</text>`);
  }
  r.levels.forEach((l, g) => {
    const x0 = left + g * groupW + (groupW - barW * ids.length) / 2;
    ids.forEach((id, i) => {
      const v = l.txPerSec[id as keyof typeof l.txPerSec] ?? 0;
      const x = x0 + i * barW;
      out.push(
        `<rect x="${x.toFixed(1)}" y="${y(v).toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${(top + plotH - y(v)).toFixed(1)}" fill="${COLORS[id] ?? '#999'}"><title>${esc(`${r.combos[id]}: ${v.toFixed(0)} tx/s`)}</title></rect>`,
      );
      out.push(
        `<text x="${(x + barW / 2 - 1).toFixed(1)}" y="${(y(v) - 3).toFixed(1)}" text-anchor="middle" font-size="9">${v.toFixed(0)}</text>`,
      );
    });
    out.push(
      `<text x="${left + g * groupW + groupW / 2}" y="${top + plotH + 16}" text-anchor="middle">concurrency ${l.concurrency}</text>`,
    );
  });
  out.push(`<line x1="${left}" x2="${W - right}" y1="${top + plotH}" y2="${top + plotH}" stroke="#333"/>`);
  ids.forEach((id, i) => {
    const col = i % 3;
    const row = Math.floor(i / 3);
    const x = left + col * 230;
    const yy = top + plotH + 38 + row * 18;
    out.push(`<rect x="${x}" y="${yy - 10}" width="12" height="12" fill="${COLORS[id] ?? '#999'}"/>`);
    out.push(`<text x="${x + 18}" y="${yy}">${esc(r.combos[id] as string)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

const n = (v: number | undefined, d = 0): string => (v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(d));

export const RUNTIME_NOTE =
  'loop: event-loop delay p99 / max ms; gc: pauses, their total ms (the longest); our processes only (– for Go); RSS peak during the level and V8 heap after a full GC, MiB';

const loop = (x: RuntimeStats | undefined): string => (x ? `${n(x.loopP99Ms, 1)} / ${n(x.loopMaxMs, 1)}` : '–');
const gc = (x: RuntimeStats | undefined): string =>
  x ? `${x.gcCount}× ${n(x.gcTotalMs)} ms (${n(x.gcMaxMs, 1)})` : '–';

/** One row per level and combination: its label, its concurrency, then `cells` of its result. */
export function comboRows(r: BenchReport, cells: (v: ComboLevel) => string[]): string[][] {
  return r.levels.flatMap((l) =>
    Object.entries(l.results).flatMap(([id, v]) =>
      v ? [[r.combos[id] as string, String(l.concurrency), ...cells(v)]] : [],
    ),
  );
}

/** Beside each p99: where our processes' tail goes (event-loop delay, GC pauses) and the memory of both. */
export function runtimeRows(r: BenchReport): { head: string[]; rows: string[][] } {
  const head = [
    'combination',
    'conc',
    'p99 ms',
    'app loop',
    'app gc',
    'trans loop',
    'trans gc',
    'app rss peak',
    'trans rss peak',
    'app heap',
    'trans heap',
  ];
  const rows = comboRows(r, (v) => [
    n(v.p99Ms, 1),
    loop(v.appRuntime),
    gc(v.appRuntime),
    loop(v.transRuntime),
    gc(v.transRuntime),
    n(v.appRssPeakMiB),
    n(v.transRssPeakMiB),
    n(v.appHeapMiB, 1),
    n(v.transHeapMiB, 1),
  ]);
  return { head, rows };
}

/** docs/performance.md's table: per level and combination tx/s, latency, errors, CPU and RSS; then the ratios and targets. */
export function markdownSummary(r: BenchReport): string {
  const out: string[] = [];
  out.push(
    `\`${r.command}\` — ${r.machine.cpus} × ${r.machine.cpuModel}, ${r.machine.memGiB} GiB, Node ${r.machine.node}, ${r.machine.go ?? 'Go ?'}; dtm v1.19.0, store ${r.store}; ${r.mode}, ${r.durationS} s per point, ${r.rounds} interleaved round(s); our app's gids ${r.gid === 'local' ? 'made locally (`localGid`: 1 call to dtm per msg, where the Go app makes 2, NewGid + Submit)' : "from dtm's NewGid (2 calls per msg, as the Go app)"}${r.combos.oursLocal ? ', and made locally in the localGid row (Submit only)' : ''}; ${r.trans ? `our trans from ${r.trans.source === 'dist' ? 'dist/' : 'its sources'} (${r.trans.nodeArgs.join(' ') || 'no flags'}); ` : ''}load average before/after ${r.load.before.map((x) => x.toFixed(1)).join(' ')} / ${r.load.after.map((x) => x.toFixed(1)).join(' ')}.`,
    '',
    '| concurrency | combination | tx/s (per round) | p50 / p95 / p99 ms | errors | app CPU ms/tx | trans CPU ms/call | app / trans RSS MiB |',
    '|---:|---|---:|---:|---:|---:|---:|---:|',
  );
  for (const l of r.levels)
    for (const [id, v] of Object.entries(l.results)) {
      if (!v) continue;
      out.push(
        `| ${l.concurrency} | ${r.combos[id]} | ${n(v.txPerSec)} (${v.rounds.join(', ')}) | ${n(v.p50Ms, 1)} / ${n(v.p95Ms, 1)} / ${n(v.p99Ms, 1)} | ${v.errors} | ${n(v.appCpuMsPerTx, 3)} | ${n(v.transCpuMsPerCall, 3)} | ${n(v.appRssMiB)} / ${n(v.transRssMiB)} |`,
      );
    }
  const rt = runtimeRows(r);
  out.push(
    '',
    `Where the tail goes, and memory (${RUNTIME_NOTE}):`,
    '',
    `| ${rt.head.join(' | ')} |`,
    `|---|${rt.head
      .slice(1)
      .map(() => '---:')
      .join('|')}|`,
    ...rt.rows.map((x) => `| ${x.join(' | ')} |`),
  );
  if (r.transIdleRssMiB)
    out.push(
      '',
      `trans RSS idle (before any load): ours ${n(r.transIdleRssMiB.ts)} MiB${r.transIdleRssMiB.go === undefined ? '' : `, go-zero's ${n(r.transIdleRssMiB.go)} MiB`}.`,
    );
  if (r.levels.some((l) => l.ratio !== undefined)) {
    out.push(
      '',
      '| concurrency | TS/Go whole stack, like for like (both apps NewGid + Submit) | our app with localGid (Submit only) | client side (our app / Go app, go-zero trans) | server side (our trans / go-zero trans, Go app) | our stack / ceiling |',
      '|---:|---:|---:|---:|---:|---:|',
    );
    for (const l of r.levels)
      out.push(
        `| ${l.concurrency} | ${n(l.ratio, 2)} | ${n(l.localRatio, 2)} | ${n(l.clientRatio, 2)} | ${n(l.serverRatio, 2)} | ${n(l.ofCeiling, 2)} |`,
      );
  }
  if (r.errorOutcomes)
    out.push(
      '',
      `What dtm made of transactions whose Submit reported an error (status once final, or after 60 s): ${r.errorOutcomes.map((e) => `${e.combo} at ${e.concurrency}: ${e.status}`).join('; ')}.`,
    );
  if (r.soak)
    out.push(
      '',
      `Soak: our app, ${r.soak.seconds} s at concurrency ${r.soak.concurrency}, ${r.soak.tx} transactions (${r.soak.errors} errors): heap after a full GC ${n(r.soak.heapStartMiB, 1)} MiB at the start, ${n(r.soak.heapEndMiB, 1)} MiB at the end.`,
    );
  if (r.targets.length > 0) {
    out.push('', '| target | met | measured |', '|---|---|---|');
    for (const t of r.targets)
      out.push(`| ${t.target} | ${t.met === undefined ? '?' : t.met ? 'yes' : '**no**'} | ${t.detail} |`);
  }
  return `${out.join('\n')}\n`;
}
