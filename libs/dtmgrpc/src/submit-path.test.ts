// How straight the client path is, measured rather than read (issue 17: a msg Submit in ≤ 10 hops over ≤ 6 files;
// dtm's Go client: Submit in 3 hops). test/submit-trace.ts records every library function that runs from a public
// submit() down to the grpc-js call, in a plain Node process; this checks the counts.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

const files = (hops: string[]) => new Set(hops.map((h) => h.split(' ')[0]));

test('a msg submit() reaches the grpc-js call through at most 10 library functions in at most 6 files', () => {
  const script = fileURLToPath(new URL('../test/submit-trace.ts', import.meta.url));
  const r = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 60_000 });
  expect(r.status, `submit-trace.ts failed: ${r.error ?? ''}\n${r.stderr}`).toBe(0);
  const { cold, warm, stack } = JSON.parse(r.stdout) as { cold: string[]; warm: string[]; stack: string };
  const why = (hops: string[]) =>
    `${hops.length} hops over ${files(hops).size} files:\n${hops.join('\n')}\nstack at the grpc-js call:\n${stack}`;
  // the trace saw the path it measures (a trace of nothing would pass the bounds)
  expect(warm, why(warm)).toContain('dtmgrpc/src/msg.ts submit');
  expect(warm, why(warm)).toContain('dtmgrpc/src/conn.ts invokeUnary');
  // the steady state, which every transaction pays: the channel to dtm is open
  expect(warm.length, why(warm)).toBeLessThanOrEqual(10);
  expect(files(warm).size, why(warm)).toBeLessThanOrEqual(6);
  // the first call to a target also opens its channel and registers go-zero's resolvers, once
  const extra = cold.filter((h) => !warm.includes(h));
  expect(extra.length, `the first submit adds:\n${extra.join('\n')}`).toBeLessThanOrEqual(3);
});

test('every call to dtm goes through dtmCall: no other source calls grpc with a method of dtm’s service', () => {
  const src = fileURLToPath(new URL('.', import.meta.url));
  const sources = readdirSync(src, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.startsWith('gen'))
    .map((f) => join(src, f));
  const calling = sources.filter((f) => {
    const text = readFileSync(f, 'utf8');
    return /\bDtmService\b/.test(text) && /\binvokeUnary\(/.test(text) && !f.endsWith('conn.ts');
  });
  expect(calling.map((f) => relative(src, f))).toEqual([]);
  // and the check sees what it looks for: dtmCall itself is the one place that does
  const conn = readFileSync(join(src, 'conn.ts'), 'utf8');
  expect(conn).toMatch(/export async function dtmCall[\s\S]*invokeUnary\(dtm, method/);
});
