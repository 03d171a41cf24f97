import { connect } from 'node:net';
import { expect, test } from 'vitest';
import { appWorkflows, stopAppWorkflows } from './workflow.ts';

/** Whether something accepts connections on 127.0.0.1:`port`. */
const listening = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });

const callbackPort = (r: { callbackUrl: string } | undefined): number =>
  Number(/:(\d+)\/workflow\.Workflow\/Execute$/.exec(r?.callbackUrl ?? '')?.[1]);

test('concurrent transfers share one callback server per trans, and stopping leaves nothing listening', async () => {
  // the chaos suite starts 8 transfers at once: each used to start a server of its own, and the process never exited
  const [a, b, c] = await Promise.all([1, 2, 3].map(() => appWorkflows('127.0.0.1:1', '127.0.0.1:2')));
  expect(b).toBe(a);
  expect(c).toBe(a);
  const port = callbackPort(a);
  expect(await listening(port)).toBe(true);
  // a second trans (the dtm property test runs one on MariaDB, then one on PostgreSQL in the same process): its own
  // registry, whose handlers call that trans — it used to be refused, and its transfers never reached dtm
  const other = await appWorkflows('127.0.0.1:1', '127.0.0.1:3');
  expect(other).not.toBe(a);
  const otherPort = callbackPort(other);
  expect(otherPort).not.toBe(port);
  expect(await listening(otherPort)).toBe(true);
  expect(await appWorkflows('127.0.0.1:1', '127.0.0.1:3')).toBe(other);
  await stopAppWorkflows();
  expect(await listening(port)).toBe(false);
  expect(await listening(otherPort)).toBe(false);
});
