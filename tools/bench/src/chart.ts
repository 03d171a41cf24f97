// The SVG charts of `npm run bench`: tx/s per concurrency level, one bar per combination (and the ceiling); and our
// trans's RSS over the soak.
import { type BenchReport, SOAK_SAMPLE_S } from './report.ts';

const COLORS: Record<string, string> = {
  ours: '#3178c6',
  go: '#00add8',
  tsGo: '#8fb8e8',
  goTs: '#7fd6ea',
  ceiling: '#b0b0b0',
  bareNode: '#d4d4d4',
  oursLocal: '#1b4f8f',
  connect: '#c678dd',
  nodeFloor: '#9e9e9e',
};

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** What both charts share: 760 px wide, a title and a heading, and a y axis from 0 to yMax with 5 grid lines. */
function frame(H: number, bottom: number, yMax: number, title: string, heading: string) {
  const W = 760;
  const left = 60;
  const right = 20;
  const top = 50;
  const plotW = W - left - right;
  const plotH = H - top - bottom;
  const y = (v: number): number => top + plotH - (v / yMax) * plotH;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<title>${esc(title)}</title>`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${esc(heading)}</text>`,
  ];
  for (let i = 0; i <= 5; i++) {
    const v = (yMax / 5) * i;
    out.push(`<line x1="${left}" x2="${W - right}" y1="${y(v)}" y2="${y(v)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end">${Math.round(v)}</text>`);
  }
  return { out, W, left, right, top, plotW, plotH, y };
}

export function svgChart(r: BenchReport): string {
  const ids = Object.keys(r.combos);
  const H = 380;
  const max = Math.max(1, ...r.levels.flatMap((l) => Object.values(l.txPerSec).map((v) => v ?? 0)));
  const step = 10 ** Math.floor(Math.log10(max));
  const yMax = Math.ceil(max / step) * step;
  const { out, W, left, right, top, plotW, plotH, y } = frame(
    H,
    90,
    yMax,
    `npm run bench: tx/s per concurrency level, ${ids.map((id) => r.combos[id]).join('; ')}`,
    `${r.mode}, 2 branches, WaitResult: transactions per second (dtm store ${r.store})`,
  );
  const groupW = plotW / Math.max(1, r.levels.length);
  const barW = Math.min(40, (groupW * 0.8) / ids.length);
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

/** Our trans's RSS over the soak, one point per sample, with its heap after GC at the start and the end; none without. */
export function svgSoakChart(r: BenchReport): string | undefined {
  const t = r.soak?.trans;
  if (!t || t.rssMiB.length < 2) return undefined;
  const soak = r.soak as NonNullable<BenchReport['soak']>;
  const H = 300;
  const xMax = (t.rssMiB.length - 1) * SOAK_SAMPLE_S;
  const { out, W, left, right, top, plotW, plotH, y } = frame(
    H,
    50,
    Math.ceil(Math.max(...t.rssMiB) / 50) * 50,
    `npm run bench soak: our trans's RSS over ${soak.seconds} s at concurrency ${soak.concurrency}`,
    `our trans's RSS (MiB) over the soak: ${soak.tx} transactions at concurrency ${soak.concurrency}`,
  );
  const x = (s: number): number => left + (s / xMax) * plotW;
  // Ticks on a round step (1, 2 or 5 × a power of ten) giving at most 6 of them.
  const mag = 10 ** Math.floor(Math.log10(xMax / 6));
  const tick = [1, 2, 5, 10].map((m) => m * mag).find((t) => xMax / t <= 6) as number;
  for (let s = 0; s <= xMax; s += tick)
    out.push(`<text x="${x(s).toFixed(1)}" y="${top + plotH + 16}" text-anchor="middle">${s} s</text>`);
  const points = t.rssMiB.map((v, i) => `${x(i * SOAK_SAMPLE_S).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
  out.push(`<polyline points="${points}" fill="none" stroke="${COLORS.ours}" stroke-width="1.5"/>`);
  out.push(`<line x1="${left}" x2="${W - right}" y1="${top + plotH}" y2="${top + plotH}" stroke="#333"/>`);
  const heap = `heap after a full GC ${t.heapStartMiB?.toFixed(1) ?? '–'} → ${t.heapEndMiB?.toFixed(1) ?? '–'} MiB`;
  out.push(`<text x="${left}" y="${H - 12}">${esc(`RSS sampled every ${SOAK_SAMPLE_S} s; ${heap}`)}</text>`);
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
