import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { openBank, parseMysqlDataSource } from '@dtm-gozero/bank';
import { root, runNode, tempFile } from '@dtm-gozero/devkit';
import { afterAll, expect, test } from 'vitest';

// CI's chaos setting: ~300 transfers in every mode against a 2-instance dtm on a shared MySQL store and a 3-member
// etcd, with 3 SIGKILLs of trans, 1 dtm restart and one etcd member down for 12 s (longer than the 10 s lease TTL).
// `--keep` leaves the stack up so that this test checks the outcome itself, from dtm's HTTP API and the database.
let stackDir: string | undefined;
afterAll(() => {
  if (!stackDir) return;
  execFileSync(process.execPath, [join(root, 'tools/chaos/src/cluster-cli.ts'), 'down', '--dir', stackDir], {
    timeout: 60_000,
  });
  rmSync(stackDir, { recursive: true, force: true });
});

test('npm run chaos at the CI setting: nothing lost, doubled, overdrawn or unfinished', async () => {
  const out = tempFile('chaos.json', '');
  const args = [
    '--transfers',
    '300',
    '--concurrency',
    '8',
    '--kills',
    '3',
    '--dtm-restarts',
    '1',
    '--etcd-outage',
    '12',
  ];
  const p = runNode(join(root, 'tools/chaos/src/main.ts'), [...args, '--out', out, '--keep'], root);
  const code = await p.exited(540_000);
  const r = JSON.parse(readFileSync(out, 'utf8')) as Record<string, unknown> & { gids: string[]; dtmHttp: string };
  stackDir = r.stackDir as string;
  expect(code, p.stderr()).toBe(0);
  expect(r).toMatchObject({
    lost: 0,
    doubled: 0,
    unfinished: 0,
    negative: 0,
    conserved: true,
    kills: 3,
    dtmRestarts: 1,
  });
  expect(r.etcdOutageS).toBe(12);
  // Each fault hit running transfers (they fire by time, the transfers are paced over the same span).
  const during = r.during as Record<'kill' | 'dtm' | 'etcd', number>;
  expect(during.kill, 'transfers started while trans was down').toBeGreaterThan(0);
  expect(during.dtm, 'transfers started while a dtm was down').toBeGreaterThan(0);
  expect(during.etcd, 'transfers started while an etcd member was down').toBeGreaterThan(0);
  // resetCronTime was on (a count; null only with --no-reset-cron), and the settle time is reported
  expect(r.cronResets).toEqual(expect.any(Number));
  expect(r.settleS).toEqual(expect.any(Number));
  expect((r.dtmInstances as string[]).length).toBe(2);
  expect(r.gids).toHaveLength(300);
  expect(p.stdout()).toMatch(/lost\s+0/);

  // From outside: every gid is final in dtm (or never reached it), and the accounts still hold what they started with.
  const finals = new Set(['succeed', 'failed', 'none']);
  for (const gid of r.gids) {
    const res = await fetch(`${r.dtmHttp}/api/dtmsvr/query?gid=${gid}`, { signal: AbortSignal.timeout(5000) });
    const body = (await res.json()) as { transaction: { status: string } | null };
    expect(finals.has(body.transaction?.status ?? 'none'), gid).toBe(true);
  }
  const bank = openBank(parseMysqlDataSource(r.bank as string, 'chaos.json'));
  try {
    const b = await bank.balances();
    const ids = (r.accounts as string[]).map(BigInt);
    expect(ids.reduce((sum, u) => sum + (b.get(u) ?? 0n), 0n)).toBe(BigInt(r.totalBefore as string));
    for (const u of ids) expect(b.get(u) ?? -1n).toBeGreaterThanOrEqual(0n);
  } finally {
    await bank.close();
  }
}, 600_000);
