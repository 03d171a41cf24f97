// A port picked as free and taken by another process before the server binds it: startDatabases starts again on
// other ports. The race is made certain by handing the first pick a port this test holds open.
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, expect, test, vi } from 'vitest';
import { startDatabases } from './databases.ts';
import { freePorts } from './ports.ts';

vi.mock('./ports.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('./ports.ts')>();
  return { ...real, freePorts: vi.fn(real.freePorts) };
});

// Accepts connections and never answers, as a foreign server on the port might.
const held = new Set<Socket>();
const squatter: Server = createServer((s) => held.add(s));
afterAll(async () => {
  for (const s of held) s.destroy();
  await new Promise<void>((r) => squatter.close(() => r()));
});

test('a port taken between pick and bind: the start is retried on another port, and says nothing of it', async () => {
  await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', r));
  const taken = (squatter.address() as { port: number }).port;
  vi.mocked(freePorts).mockResolvedValueOnce([taken]);
  const dbs = await startDatabases({ servers: ['redis'] });
  try {
    expect(vi.mocked(freePorts)).toHaveBeenCalledTimes(2);
    expect(dbs.redis.port).not.toBe(taken);
  } finally {
    await dbs.stop();
  }
}, 180_000);
