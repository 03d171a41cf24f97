import { createServer, type Server } from 'node:net';
import { pidAlive } from '@dtm-gozero/devkit';
import { afterAll, beforeAll, expect, test, vi } from 'vitest';
import * as ports from './ports.ts';
import { startDtmStack } from './stack.ts';

// A port picked as free can be taken by another process before etcd or dtm binds it: the start is retried with
// fresh ports. Forced here by handing out, once, a port that something already listens on.
vi.mock('./ports.ts', async (importOriginal) => {
  const real = await importOriginal<typeof ports>();
  return { ...real, freePorts: vi.fn(real.freePorts) };
});

let busy: Server;
let busyPort = 0;
beforeAll(async () => {
  busy = createServer((socket) => socket.destroy());
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
  busyPort = (busy.address() as { port: number }).port;
});
afterAll(() => new Promise<void>((r) => busy.close(() => r())));

test('a port taken between picking and binding: retried with other ports', async () => {
  const real = (await vi.importActual<typeof ports>('./ports.ts')).freePorts;
  vi.mocked(ports.freePorts).mockImplementationOnce(async (n) => [busyPort, ...(await real(n - 1))]);
  const lines: string[] = [];
  const stack = await startDtmStack({ backend: 'local', log: (l) => lines.push(l) });
  try {
    expect(lines.join('\n')).toMatch(/a port picked as free was taken meanwhile; retrying with other ports/);
    expect(Object.values(stack.ports)).not.toContain(busyPort);
    expect(vi.mocked(ports.freePorts)).toHaveBeenCalledTimes(2);
    // the first attempt's etcd was stopped
    const firstEtcd = Number(/started etcd \(pid (\d+)\)/.exec(lines.join('\n'))?.[1]);
    expect(stack.pids).not.toContain(firstEtcd);
    expect(pidAlive(firstEtcd)).toBe(false);
  } finally {
    await stack.stop();
  }
});
