// `node scripts/cpuprofile-top.ts FILE.cpuprofile [N]`: the functions with the most self time in a V8 CPU profile
// (node --cpu-prof), and the share of each package — what `npm run bench -- --cpu-prof DIR` leaves behind.
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

export function top(
  p: Profile,
  n: number,
): { self: [string, number][]; byPackage: [string, number][]; totalMs: number } {
  const byId = new Map(p.nodes.map((x) => [x.id, x]));
  const self = new Map<string, number>();
  const pkg = new Map<string, number>();
  let total = 0;
  p.samples.forEach((id, i) => {
    const dt = (p.timeDeltas[i] ?? 0) / 1000;
    const node = byId.get(id);
    if (!node) return;
    total += dt;
    const { functionName, url, lineNumber } = node.callFrame;
    const file = url.replace(/^file:\/\//, '').replace(/.*node_modules\//, '');
    const key = `${functionName || '(anonymous)'} ${file.split('/').slice(-2).join('/')}:${lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + dt);
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
    const where = m
      ? (m[1] as string)
      : url.startsWith('node:')
        ? 'node core'
        : url === ''
          ? `(${functionName})`
          : url.includes('/libs/')
            ? `libs/${url.split('/libs/')[1]?.split('/')[0]}`
            : 'other';
    pkg.set(where, (pkg.get(where) ?? 0) + dt);
  });
  const sort = (m: Map<string, number>): [string, number][] => [...m].sort((a, b) => b[1] - a[1]).slice(0, n);
  return { self: sort(self), byPackage: sort(pkg), totalMs: total };
}

if (import.meta.main) {
  const [file, count] = process.argv.slice(2);
  if (!file) {
    console.error('usage: node scripts/cpuprofile-top.ts FILE.cpuprofile [N]');
    process.exit(2);
  }
  const t = top(JSON.parse(readFileSync(file, 'utf8')) as Profile, Number(count ?? 25));
  const pc = (ms: number): string => `${((ms / t.totalMs) * 100).toFixed(1).padStart(5)}%`;
  console.log(`${t.totalMs.toFixed(0)} ms sampled\n\nby package:`);
  for (const [k, v] of t.byPackage) console.log(`  ${pc(v)}  ${k}`);
  console.log('\nself time:');
  for (const [k, v] of t.self) console.log(`  ${pc(v)}  ${k}`);
}
