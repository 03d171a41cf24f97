import { pidAlive, until } from '@dtm-gozero/devkit';
import { dtmQuery, trivialTcc } from '@dtm-gozero/devkit/dtm';
import type {} from '@dtm-gozero/devkit/stack';
import { openPorts, openPortsAfter, runVictim } from '@dtm-gozero/devkit/victim';
import { closeConnections, genGid } from '@dtm-gozero/dtmgrpc';
import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { dockerEngine } from './backend.ts';
import { TestkitError } from './errors.ts';
import { startDtmStack } from './stack.ts';
import type { DtmStack } from './types.ts';

// Against the real etcd and dtm binaries (`npm run setup`), each stack on free ports of its own: none uses the ports
// of the fixed-port stack (2379, 36789, 36790), and the integration global setup's stack keeps running untouched.
const FIXED_PORTS = [2379, 2380, 36789, 36790];
const engine = await dockerEngine();

afterAll(() => closeConnections());

async function dtmKeys(stack: DtmStack): Promise<Record<string, string>> {
  const etcd = new Etcd3({ hosts: stack.etcdUrl });
  try {
    return await etcd.getAll().prefix('dtmservice/').strings();
  } finally {
    etcd.close();
  }
}

const query = (stack: DtmStack, gid: string) => dtmQuery(gid, stack.dtmHttp);

describe('boltdb stack (local backend)', () => {
  let stack: DtmStack;
  const lines: string[] = [];
  beforeAll(async () => {
    stack = await startDtmStack({ backend: 'local', log: (l) => lines.push(l) });
  });
  afterAll(() => stack?.stop());

  test('addresses on free loopback ports, none of the fixed stack', () => {
    expect(stack.backend).toBe('local');
    expect(stack.store).toBe('boltdb');
    const { etcdClient, dtmGrpc, dtmHttp } = stack.ports;
    expect(stack.etcdEndpoints).toEqual([`127.0.0.1:${etcdClient}`]);
    expect(stack.dtmGrpc).toBe(`127.0.0.1:${dtmGrpc}`);
    expect(stack.dtmHttp).toBe(`http://127.0.0.1:${dtmHttp}`);
    expect(stack.dtmTarget).toBe(`etcd://127.0.0.1:${etcdClient}/dtmservice`);
    expect(new Set(Object.values(stack.ports)).size).toBe(4);
    for (const p of Object.values(stack.ports)) expect(FIXED_PORTS).not.toContain(p);
    expect(stack.pids).toHaveLength(2);
  });

  test('dtm registered itself in this etcd under dtmservice/<lease> with its gRPC address', async () => {
    const keys = await dtmKeys(stack);
    expect(Object.values(keys)).toEqual([stack.dtmGrpc]);
    expect(Object.keys(keys)[0]).toMatch(/^dtmservice\/\d+$/);
  });

  test('NewGid over gRPC, directly and through the etcd resolver', async () => {
    const direct = await genGid(stack.dtmGrpc);
    const viaEtcd = await genGid(stack.dtmTarget);
    expect(direct).toMatch(/^\w{10,}$/);
    expect(viaEtcd).toMatch(/^\w{10,}$/);
    expect(direct).not.toBe(viaEtcd);
  });

  test('a transaction goes through dtm and its store; the query API sees it', async () => {
    const gid = await trivialTcc(stack.dtmTarget);
    expect((await query(stack, gid)).transaction?.status).toBe('succeed');
    expect((await query(stack, 'no-such-gid')).transaction).toBeNull();
  });

  test('the log callback gets the servers lines', () => {
    expect(lines.some((l) => l.startsWith('[etcd] '))).toBe(true);
    expect(lines.some((l) => l.startsWith('[dtm] ') && l.includes('RegisterService'))).toBe(true);
  });
});

test('stop(): processes gone, ports closed, idempotent', async () => {
  const stack = await startDtmStack({ backend: 'local' });
  expect(stack.pids.every(pidAlive)).toBe(true);
  expect(await openPorts(stack)).toEqual([
    stack.ports.etcdClient,
    stack.ports.etcdPeer,
    stack.ports.dtmHttp,
    stack.ports.dtmGrpc,
  ]);
  await stack.stop();
  expect(stack.pids.filter(pidAlive)).toEqual([]);
  expect(await openPortsAfter(stack)).toEqual([]);
  await expect(stack.stop()).resolves.toBeUndefined();
});

test('two stacks started at once do not clash', async () => {
  const [a, b] = await Promise.all([startDtmStack({ backend: 'local' }), startDtmStack({ backend: 'local' })]);
  try {
    const all = [...Object.values(a.ports), ...Object.values(b.ports)];
    expect(new Set(all).size).toBe(8);
    // each dtm is registered in its own etcd only
    expect(Object.values(await dtmKeys(a))).toEqual([a.dtmGrpc]);
    expect(Object.values(await dtmKeys(b))).toEqual([b.dtmGrpc]);
    const [ga, gb] = await Promise.all([trivialTcc(a.dtmTarget), trivialTcc(b.dtmTarget)]);
    expect((await query(a, ga)).transaction?.status).toBe('succeed');
    expect((await query(b, gb)).transaction?.status).toBe('succeed');
    // separate stores: a's transaction is unknown to b
    expect((await query(b, ga)).transaction).toBeNull();
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
  expect([...a.pids, ...b.pids].filter(pidAlive)).toEqual([]);
});

test('the stack of the integration global setup still answers', async () => {
  const res = await fetch(`${inject('dtmHttp')}/api/ping`, { signal: AbortSignal.timeout(3000) });
  expect(await res.json()).toEqual({ msg: 'pong' });
});

describe('errors', () => {
  test('unknown store: lists the valid ones', async () => {
    await expect(startDtmStack({ store: 'postgres' as never })).rejects.toThrow(
      'unknown dtm store "postgres"; valid stores: boltdb, mysql, redis',
    );
  });

  test.skipIf(engine.ok)('docker requested without an engine: says to start Docker or use local', async () => {
    const err = await startDtmStack({ backend: 'docker' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TestkitError);
    expect((err as Error).message).toMatch(/no Docker engine answers .*Start Docker.*backend: 'local'/s);
  });

  test('missing binaries: names the one missing and how to install it', async () => {
    await expect(startDtmStack({ backend: 'local', dtmBin: '/nonexistent/dtm' })).rejects.toThrow(
      /missing: dtm \(\/nonexistent\/dtm is not an executable\)\. Install dtm v1\.19\.0: build it with Go/,
    );
  });

  test('dtm dies at start-up: the error shows why, and etcd is stopped again', async () => {
    const lines: string[] = [];
    const err = await startDtmStack({ backend: 'local', dtmBin: '/bin/false', log: (l) => lines.push(l) }).catch(
      (e: unknown) => e,
    );
    expect((err as Error).message).toMatch(/dtm exited \(code 1\)/);
    const pid = Number(/started etcd \(pid (\d+)\)/.exec(lines.join('\n'))?.[1]);
    expect(pid).toBeGreaterThan(0);
    expect(pidAlive(pid)).toBe(false);
  });
});

describe('a test process that dies leaves no servers behind', () => {
  test('uncaught exception', async () => {
    const v = await runVictim('throw');
    await until(() => v.pids.every((p) => !pidAlive(p)), 5000, 'servers gone');
    expect(await openPortsAfter(v)).toEqual([]);
  });

  test('SIGTERM: servers killed, and the process still dies of the signal', async () => {
    const v = await runVictim('sigterm');
    expect(v.signal).toBe('SIGTERM');
    await until(() => v.pids.every((p) => !pidAlive(p)), 5000, 'servers gone');
    expect(await openPortsAfter(v)).toEqual([]);
  });
});
