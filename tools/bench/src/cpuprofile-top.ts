// `node tools/bench/src/cpuprofile-top.ts FILE.cpuprofile [N]`: where a V8 CPU profile (node --cpu-prof) spent its time —
// the share of each package, the functions with the most self time, and the functions with the most inclusive
// time (itself and what it called) — what `npm run bench -- --cpu-prof DIR` leaves behind. Shares are of the busy
// time (idle excluded), which is what a change to the code can lower.
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

export interface Top {
  self: [string, number][];
  inclusive: [string, number][];
  byPackage: [string, number][];
  totalMs: number;
  idleMs: number;
}

function keyOf(node: Node): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url.replace(/^file:\/\//, '').replace(/.*node_modules\//, '');
  return `${functionName || '(anonymous)'} ${file.split('/').slice(-2).join('/')}:${lineNumber + 1}`;
}

function packageOf(node: Node): string {
  const { functionName, url } = node.callFrame;
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1] as string;
  if (url.startsWith('node:')) return 'node core';
  if (url === '') return `(${functionName})`;
  if (url.includes('/libs/')) return `libs/${url.split('/libs/')[1]?.split('/')[0]}`;
  if (url.includes('/apps/')) return `apps/${url.split('/apps/')[1]?.split('/')[0]}`;
  return 'other';
}

export function top(p: Profile, n: number): Top {
  const byId = new Map(p.nodes.map((x) => [x.id, x]));
  const parent = new Map<number, number>();
  for (const x of p.nodes) for (const c of x.children ?? []) parent.set(c, x.id);
  const self = new Map<string, number>();
  const incl = new Map<string, number>();
  const pkg = new Map<string, number>();
  let total = 0;
  let idle = 0;
  p.samples.forEach((id, i) => {
    const dt = (p.timeDeltas[i] ?? 0) / 1000;
    const node = byId.get(id);
    if (!node) return;
    total += dt;
    if (node.callFrame.functionName === '(idle)') {
      idle += dt;
      return;
    }
    const key = keyOf(node);
    self.set(key, (self.get(key) ?? 0) + dt);
    const where = packageOf(node);
    pkg.set(where, (pkg.get(where) ?? 0) + dt);
    // Inclusive: every distinct frame on the stack (recursion counted once).
    const seen = new Set<string>();
    for (let cur: Node | undefined = node; cur; cur = byId.get(parent.get(cur.id) ?? -1)) {
      if (cur.callFrame.functionName === '(root)') break;
      const k = keyOf(cur);
      if (seen.has(k)) continue;
      seen.add(k);
      incl.set(k, (incl.get(k) ?? 0) + dt);
    }
  });
  const sort = (m: Map<string, number>): [string, number][] => [...m].sort((a, b) => b[1] - a[1]).slice(0, n);
  return { self: sort(self), inclusive: sort(incl), byPackage: sort(pkg), totalMs: total, idleMs: idle };
}

if (import.meta.main) {
  const [file, count] = process.argv.slice(2);
  if (!file) {
    console.error('usage: node tools/bench/src/cpuprofile-top.ts FILE.cpuprofile [N]');
    process.exit(2);
  }
  const t = top(JSON.parse(readFileSync(file, 'utf8')) as Profile, Number(count ?? 25));
  const busy = t.totalMs - t.idleMs;
  const pc = (ms: number): string => `${((ms / busy) * 100).toFixed(1).padStart(5)}%`;
  console.log(
    `${t.totalMs.toFixed(0)} ms sampled, ${busy.toFixed(0)} ms busy (${((busy / t.totalMs) * 100).toFixed(0)} %); shares below are of the busy time\n\nby package (self time):`,
  );
  for (const [k, v] of t.byPackage) console.log(`  ${pc(v)}  ${k}`);
  console.log('\nself time:');
  for (const [k, v] of t.self) console.log(`  ${pc(v)}  ${k}`);
  console.log('\ninclusive time (the function and what it called):');
  for (const [k, v] of t.inclusive) console.log(`  ${pc(v)}  ${k}`);
}
