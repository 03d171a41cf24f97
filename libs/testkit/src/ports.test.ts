import { expect, test } from 'vitest';
import { FIXED_PORTS, freePorts, pickPorts, releasePorts } from './ports.ts';

/** A probe answering the given ports in turn, as the kernel might for port 0. */
const answers = (ports: number[]) => {
  let i = 0;
  return async (): Promise<number> => ports[i++ % ports.length] as number;
};

// The kernel hands out ports of its ephemeral range for port 0, and dtm's 36789/36790 and the example trans's
// 50081 lie in it: a free port must never be one of them (a suite's Postgres once took 36789, and every test of the
// fixed-port stack after it failed with "port 36789 is taken").
test('a free port is never one of the fixed ports of dtm and the example trans, nor one handed out already', async () => {
  expect(FIXED_PORTS).toEqual([36789, 36790, 50081]);
  const got = await pickPorts(3, answers([36789, 41000, 36790, 41000, 50081, 41001, 41002]));
  expect(got).toEqual([41000, 41001, 41002]);
  // still reserved: the next pick skips them too
  expect(await pickPorts(1, answers([41000, 41002, 41003]))).toEqual([41003]);
  releasePorts([41000, 41001, 41002, 41003]);
  expect(await pickPorts(1, answers([41000]))).toEqual([41000]);
  releasePorts([41000]);
});

test('a probe that only ever answers fixed ports ends with an error, not a hang', async () => {
  await expect(pickPorts(2, answers([36789, 36790]))).rejects.toThrow('could not find 2 free loopback ports');
});

test('the real probe: distinct loopback ports, none of them fixed', async () => {
  const ports = await freePorts(50);
  expect(new Set(ports).size).toBe(50);
  for (const p of ports) expect(FIXED_PORTS).not.toContain(p);
  releasePorts(ports);
});
