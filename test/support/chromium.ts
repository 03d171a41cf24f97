// Debian's headless Chromium for the browser tests (admin UI, the trace picture): kept off the (closed) network.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

/** Chromium, headless, with the flags that keep it off the network: its own background traffic. */
export function chromium(
  profile: string,
  args: string[],
  window = '1680,560',
): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(
    CHROMIUM as string,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--hide-scrollbars',
      `--user-data-dir=${profile}`,
      `--window-size=${window}`,
      // The page's own requests run within this budget of virtual time before the DOM is taken.
      '--virtual-time-budget=15000',
      ...args,
    ],
    { encoding: 'utf8', timeout: 90_000, maxBuffer: 32 * 1024 * 1024 },
  );
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}
