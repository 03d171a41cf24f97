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

test('concurrent transfers share one callback server, and stopping it leaves nothing listening', async () => {
  // the chaos suite starts 8 transfers at once: each used to start a server of its own, and the process never exited
  const [a, b, c] = await Promise.all([1, 2, 3].map(() => appWorkflows('127.0.0.1:1', '127.0.0.1:2')));
  expect(b).toBe(a);
  expect(c).toBe(a);
  const port = Number(/:(\d+)\/workflow\.Workflow\/Execute$/.exec(a?.callbackUrl ?? '')?.[1]);
  expect(await listening(port)).toBe(true);
  await expect(appWorkflows('127.0.0.1:1', '127.0.0.1:3')).rejects.toThrow(/one dtm and one trans at a time/);
  await stopAppWorkflows();
  expect(await listening(port)).toBe(false);
});
