// One trace from Jaeger's query API as a self-contained HTML waterfall. The Jaeger built from the Go module proxy
// has no UI inside (Jaeger's UI is a separate npm build, not in the module), so `npm run trace` and the
// observability test draw the trace themselves from /api/traces.
import type { JaegerTrace } from './observability.ts';

interface Row {
  id: string;
  parent: string | undefined;
  service: string;
  name: string;
  kind: string;
  start: number;
  duration: number;
  error: boolean;
}

const esc = (s: string): string =>
  s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] as string);

/** Spans in tree order (children under their parent, by start time), each with its depth. */
function ordered(rows: Row[]): { row: Row; depth: number }[] {
  const ids = new Set(rows.map((r) => r.id));
  const kids = new Map<string | undefined, Row[]>();
  for (const r of rows) {
    const p = r.parent && ids.has(r.parent) ? r.parent : undefined;
    kids.set(p, [...(kids.get(p) ?? []), r]);
  }
  const out: { row: Row; depth: number }[] = [];
  const walk = (parent: string | undefined, depth: number): void => {
    for (const r of (kids.get(parent) ?? []).sort((a, b) => a.start - b.start)) {
      out.push({ row: r, depth });
      walk(r.id, depth + 1);
    }
  };
  walk(undefined, 0);
  return out;
}

export function traceHtml(t: JaegerTrace): string {
  const rows: Row[] = t.spans.map((s) => {
    const tag = (k: string) => s.tags.find((x) => x.key === k)?.value;
    return {
      id: s.spanID,
      parent: s.references.find((r) => r.refType === 'CHILD_OF')?.spanID,
      service: t.processes[s.processID]?.serviceName ?? '?',
      name: s.operationName,
      kind: String(tag('span.kind') ?? 'internal'),
      start: s.startTime,
      duration: s.duration,
      error: tag('error') === true || tag('otel.status_code') === 'ERROR',
    };
  });
  const t0 = Math.min(...rows.map((r) => r.start));
  const total = Math.max(1, ...rows.map((r) => r.start + r.duration - t0));
  const services = [...new Set(rows.map((r) => r.service))];
  const colours = ['#3b82f6', '#f59e0b', '#10b981', '#ef4444', '#8b5cf6', '#ec4899'];
  const colour = (svc: string) => colours[services.indexOf(svc) % colours.length];
  const body = ordered(rows)
    .map(({ row, depth }) => {
      const left = ((row.start - t0) / total) * 100;
      const width = Math.max(0.3, (row.duration / total) * 100);
      return `<tr data-service="${esc(row.service)}" data-kind="${esc(row.kind)}"><td class="name" style="padding-left:${8 + depth * 16}px"><b style="color:${colour(row.service)}">${esc(row.service)}</b> ${esc(row.name)} <i>${esc(row.kind)}</i>${row.error ? ' <span class="err">error</span>' : ''}</td><td class="bar"><div style="margin-left:${left.toFixed(2)}%;width:${width.toFixed(2)}%;background:${colour(row.service)}"></div><span style="margin-left:${left.toFixed(2)}%">${(row.duration / 1000).toFixed(2)} ms</span></td></tr>`;
    })
    .join('\n');
  return `<!doctype html><html><head><meta charset="utf-8"><title>trace ${esc(t.traceID)}</title><style>
body{font:13px system-ui,sans-serif;margin:16px;color:#111}h1{font-size:16px;margin:0 0 4px}p{margin:0 0 12px;color:#555}
table{border-collapse:collapse;width:100%}td{border-bottom:1px solid #eee;padding:3px 8px;white-space:nowrap}
td.name{width:46%;overflow:hidden}td.bar{position:relative}td.bar div{height:12px;border-radius:2px}
td.bar span{display:block;font-size:11px;color:#555}i{color:#888;font-style:normal}.err{color:#dc2626}
</style></head><body><h1>trace ${esc(t.traceID)}</h1><p>${rows.length} spans from ${services.map(esc).join(', ')} · ${(total / 1000).toFixed(1)} ms · from Jaeger's query API</p>
<table>${body}</table></body></html>`;
}
