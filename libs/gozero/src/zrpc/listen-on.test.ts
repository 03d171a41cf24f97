// What a ListenOn publishes in etcd (go-zero's figureOutListenOn), with the machine's interfaces stubbed.
import { afterEach, expect, test, vi } from 'vitest';

const ifaces = vi.hoisted(() => ({
  list: {} as Record<string, { family: string; internal: boolean; address: string }[]>,
}));
vi.mock('node:os', async (orig) => ({
  ...(await orig<typeof import('node:os')>()),
  networkInterfaces: () => ifaces.list,
}));
const { figureOutListenOn, RpcServer } = await import('./server.ts');

const lo = { family: 'IPv4', internal: true, address: '127.0.0.1' };
afterEach(() => vi.unstubAllEnvs());

test('a concrete host is published as is', () => {
  expect(figureOutListenOn('10.1.2.3:50081')).toBe('10.1.2.3:50081');
});

test('0.0.0.0:port and :port publish POD_IP, else the first non-loopback IPv4', () => {
  ifaces.list = {
    lo: [lo],
    eth0: [
      { family: 'IPv6', internal: false, address: 'fe80::1' },
      { family: 'IPv4', internal: false, address: '192.168.5.7' },
    ],
  };
  vi.stubEnv('POD_IP', '');
  expect(figureOutListenOn('0.0.0.0:50081')).toBe('192.168.5.7:50081');
  expect(figureOutListenOn(':50081')).toBe('192.168.5.7:50081');
  vi.stubEnv('POD_IP', '10.0.0.9');
  expect(figureOutListenOn(':50081')).toBe('10.0.0.9:50081');
});

test('nothing to publish (loopback only, no POD_IP): an error naming ListenOn and the fix; nothing is bound', async () => {
  ifaces.list = { lo: [lo] };
  vi.stubEnv('POD_IP', '');
  expect(() => figureOutListenOn('0.0.0.0:50081')).toThrow(
    /ListenOn 0\.0\.0\.0:50081: cannot publish it in etcd, .*no non-loopback IPv4 and POD_IP is unset; set ListenOn to an address callers can reach/,
  );
  const s = new RpcServer(
    { Name: 'x', ListenOn: ':0', Mode: 'pro', Timeout: 2000, Etcd: { Hosts: ['127.0.0.1:9'], Key: 'x' } },
    () => undefined,
  );
  await expect(s.start()).rejects.toThrow(/cannot publish it in etcd/);
});
