import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { freePort, type Proc, root, runNode, TRANS, tempFile } from '@dtm-gozero/devkit';
import { appConfig, runApp } from '@dtm-gozero/devkit/stack';
import { type DtmStack, startDtmStack } from '@dtm-gozero/testkit';
import { afterAll, expect, test } from 'vitest';
import { CHROMIUM, chromium as chromiumIn } from '../support/chromium.ts';

// dtm's admin UI (built from dtm v1.19.0's admin/ and embedded into the dtm binary by scripts/dtm-admin.sh), in a
// real headless Chromium (Debian's `chromium`), after the example's seed ran against an etcd + dtm of the test's
// own (the shared stack's dtm holds every other test's transactions, and its list is not in time order): the page
// lists the seed's gids. The screenshot goes to a temp dir, or to docs/img/dtm-admin-ui.png (docs/admin-ui.md's
// picture) with ADMIN_UI_SCREENSHOT=docs.

const SHOT =
  process.env.ADMIN_UI_SCREENSHOT === 'docs'
    ? join(root, 'docs/img/dtm-admin-ui.png')
    : join(mkdtempSync(join(tmpdir(), 'admin-ui-')), 'dtm-admin-ui.png');
const profile = mkdtempSync(join(tmpdir(), 'chromium-profile-'));
let trans: Proc | undefined;
let stack: DtmStack | undefined;
const chromium = (args: string[]) => chromiumIn(profile, args);
afterAll(async () => {
  trans?.kill('SIGKILL');
  await stack?.stop();
  rmSync(profile, { recursive: true, force: true });
});

test.skipIf(!CHROMIUM && !process.env.CI)(
  "dtm admin UI in headless Chromium lists the seed's gids",
  {
    timeout: 240_000,
  },
  async () => {
    expect(CHROMIUM, 'Chromium is needed for this test: apt-get install chromium (.ci/run installs it)').toBeDefined();
    // The seed: trans registered in the stack's etcd, and the example app once (a msg and a tcc).
    const own = await startDtmStack();
    stack = own;
    const port = await freePort();
    const hosts = own.etcdEndpoints.map((h) => `    - ${h}\n`).join('');
    const config = tempFile(
      'trans.yaml',
      `Name: trans.rpc\nListenOn: 127.0.0.1:${port}\nEtcd:\n  Hosts:\n${hosts}  Key: trans\n`,
    );
    trans = runNode(TRANS, ['-f', config], join(root, 'apps/trans'));
    await trans.waitFor(/Starting rpc server at/, 15_000);
    const app = runApp([
      '-f',
      appConfig('trans', own.etcdEndpoints),
      '--dtm',
      own.dtmTarget,
      '--dtm-http',
      own.dtmHttp,
    ]);
    expect(await app.exited(30_000)).toBe(0);
    const gids = app
      .stdout()
      .trim()
      .split('\n')
      .map((l) => l.split(' ')[1] as string);
    expect(gids).toHaveLength(2);

    const url = `${own.dtmHttp}/admin/global-transactions/all`;
    // Served by dtm itself (embedded), not proxied to the internet.
    const index = await (await fetch(url, { signal: AbortSignal.timeout(5000) })).text();
    expect(index).toContain('<div id="app">');

    const dom = chromium(['--dump-dom', url]);
    expect(dom.status, dom.stderr.slice(-2000)).toBe(0);
    for (const gid of gids) expect(dom.stdout, `gid ${gid} on the page`).toContain(gid);
    expect(dom.stdout).toContain('succeed');

    mkdirSync(dirname(SHOT), { recursive: true });
    const shot = chromium([`--screenshot=${SHOT}`, url]);
    expect(shot.status, shot.stderr.slice(-2000)).toBe(0);
    const png = readFileSync(SHOT);
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(png.length).toBeGreaterThan(20_000);
  },
);
