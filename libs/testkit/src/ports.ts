import { createServer, Socket } from 'node:net';

// Ports handed out by this process and not yet released: two stacks started at once never get the same one.
const reserved = new Set<number>();

/**
 * Fixed ports of a local dtm + go-zero setup that fall in Linux's ephemeral range (32768–60999), where the kernel
 * may hand them out for port 0: dtm's HTTP and gRPC defaults (36789, 36790) and the example trans's ListenOn
 * (50081). A free port is never one of them, so a server started on a free port cannot take the place of
 * `npm run stack:up`, `docker compose up` or `npm start` (a suite's Postgres once sat on 36789 and every fixed-port
 * test after it failed).
 */
export const FIXED_PORTS: readonly number[] = [36789, 36790, 50081];

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
export function freePorts(n: number): Promise<number[]> {
  return pickPorts(n, probeFreePort);
}

/** freePorts with the probe given (the kernel's choice, or a test's): skips reserved and fixed ports. */
export async function pickPorts(n: number, probe: () => Promise<number>): Promise<number[]> {
  const out: number[] = [];
  for (let tries = 0; out.length < n; tries++) {
    if (tries > n * 20) throw new Error(`could not find ${n} free loopback ports`);
    const p = await probe();
    if (reserved.has(p) || FIXED_PORTS.includes(p)) continue;
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
