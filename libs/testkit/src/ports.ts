import { createServer, Socket } from 'node:net';

// Ports handed out by this process and not yet released: two stacks started at once never get the same one.
const reserved = new Set<number>();

function probeFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** `n` distinct free loopback ports, reserved for this process until `releasePorts`. */
export async function freePorts(n: number): Promise<number[]> {
  const out: number[] = [];
  for (let tries = 0; out.length < n; tries++) {
    if (tries > n * 20) throw new Error(`could not find ${n} free loopback ports`);
    const p = await probeFreePort();
    if (reserved.has(p)) continue;
    reserved.add(p);
    out.push(p);
  }
  return out;
}

/**
 * A free loopback TCP port for a server of the caller's own (e.g. a service under test); this process never
 * hands the same port out twice, so two servers started at once do not get the same one.
 */
export async function freePort(): Promise<number> {
  return (await freePorts(1))[0] as number;
}

/** Gives ports back to the pool of `freePorts`. */
export function releasePorts(ports: Iterable<number>): void {
  for (const p of ports) reserved.delete(p);
}

/** Whether something accepts TCP connections on host:port (within `ms`). */
export function portOpen(port: number, host = '127.0.0.1', ms = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = new Socket();
    const done = (ok: boolean): void => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(ms, () => done(false));
    s.once('error', () => done(false));
    s.connect(port, host, () => done(true));
  });
}
