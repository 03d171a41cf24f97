import { testStack } from '@dtm-gozero/devkit/stack';
import { beforeAll, describe, expect, test } from 'vitest';
import { appToTrans, EXAMPLE_TRANSCRIPT, goClientSpread } from '../../scripts/interop.ts';
import { buildGo } from '../../scripts/lib/twins.ts';

// Go interop both ways (`npm run interop` runs the same scenarios): the Go twins under interop/gozero (go-zero
// v1.4.4 trans; dtm's Go client v1.17.3 with dtmdriver-gozero v0.0.7) against our apps, through the suite's real
// etcd + dtm; and both directions again with the same twins built against go-zero v1.10.3 (go110.mod).
const stack = testStack();
const hosts = stack.etcdEndpoints;
const GID = /^[A-Za-z0-9]{16,22}$/; // dtm's shortuuid: 22 characters, fewer when it starts with zeros

beforeAll(() => {
  // Never skipped: no Go or a failed build fails this file with the build's output (setup builds them once).
  const started = Date.now();
  process.stdout.write(`go-twins: ${buildGo()} (${Date.now() - started} ms)\n`);
}, 900_000);

function expectExampleRun(r: Awaited<ReturnType<typeof appToTrans>>): void {
  expect(r.code, `app stderr: ${r.appStderr}\ntrans stderr: ${r.transStderr}`).toBe(0);
  expect(r.appLines).toHaveLength(2);
  const [msg, tcc] = r.appLines.map((l) => l.split(' '));
  expect(msg?.[0]).toBe('msg');
  expect(msg?.[1]).toMatch(GID);
  expect(msg?.[2]).toBe('succeed');
  expect(tcc?.[0]).toBe('tcc');
  expect(tcc?.[1]).toMatch(GID);
  expect(tcc?.[2]).toBe('succeed');
  // Both apps set WaitResult on both Submits, so dtm's order is the whole order: the msg's two branches, then the
  // TCC's try (by the app) and confirm (by dtm). transcript() also fails on any stray stderr line.
  expect(r.transcript).toEqual(EXAMPLE_TRANSCRIPT);
}

describe.each([
  ['go', 'go-zero v1.4.4'],
  ['go110', 'go-zero v1.10.3'],
] as const)('Go twins built with %s (%s)', (go, _version) => {
  test('our app → the go-zero trans (interop/gozero/trans) gives the Go example’s transcript', async () => {
    expectExampleRun(await appToTrans('ts', go, hosts, stack));
  }, 90_000);

  test('the Go app (dtm’s Go client, go-zero driver) → our trans gives the Go example’s transcript', async () => {
    const r = await appToTrans(go, 'ts', hosts, stack);
    expectExampleRun(r);
    expect(r.appStderr).toBe('');
  }, 90_000);
});

test('a go-zero client spreads its calls across two instances of our trans', async () => {
  const s = await goClientSpread(hosts, 200, 8);
  expect(s.code, s.clientOutput).toBe(0);
  const counts = Object.values(s.perInstance);
  expect(counts).toHaveLength(2);
  expect(counts.reduce((a, b) => a + b, 0)).toBe(200);
  // go-zero's p2c favours the instance answering faster (on a loaded machine the split can be 186/14), but both
  // serve a share: more than a stray call each.
  for (const n of counts) expect(n).toBeGreaterThanOrEqual(5);
}, 90_000);
