// go-zero's breaker and load shedder against real servers and real processes (issue 20, item 7): the client
// breaker opens on a killed instance and closes after it comes back; dtm's ABORTED never trips it; the server
// sheds with RESOURCE_EXHAUSTED under a CPU burn, not in dev Mode, and serves again once the burn stops.
import { randomUUID } from 'node:crypto';
import { freePort, type Proc, root, runNode, SHED_INSTANCE, until } from '@dtm-gozero/devkit';
import { callOnce, spawnInstance } from '@dtm-gozero/devkit/gozero';
import { testStack } from '@dtm-gozero/devkit/stack';
import { TransSvcService } from '@dtm-gozero/proto/trans';
import { type Client, credentials, Client as GrpcClient, type ServiceError, status } from '@grpc/grpc-js';
import { afterAll, expect, test } from 'vitest';
import { closeEtcdClients } from '../discov/clients.ts';
import { newRpcClient } from './client.ts';
import { RpcServer } from './server.ts';

afterAll(() => closeEtcdClients());
const { etcdEndpoints } = testStack();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const BREAKER_OPEN = 'circuit breaker is open';

/** One TransOut call: 'ok' or the error's code and details. */
async function outcome(client: Client, amount = 1n, deadlineMs = 2000): Promise<string> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      TransSvcService.transOut.path,
      TransSvcService.transOut.requestSerialize,
      TransSvcService.transOut.responseDeserialize,
      { Amount: amount, UserID: 1n },
      { deadline: Date.now() + deadlineMs },
      (err: ServiceError | null) => resolve(err ? `${status[err.code]}: ${err.details}` : 'ok'),
    );
  });
}

test('client breaker: opens on a kill -9’d instance (calls fail fast), closes after it is back', {
  timeout: 90_000,
}, async () => {
  const key = `brk-${randomUUID().slice(0, 8)}`;
  const port = await freePort();
  const etcd = { Hosts: etcdEndpoints, Key: key };
  let a: Proc | undefined = await spawnInstance('a', port, etcd, 30);
  const client = await newRpcClient({ Etcd: etcd, NonBlock: false, Timeout: 2000 });
  try {
    for (let i = 0; i < 20; i++) expect(await callOnce(client)).toBe('a');
    a.kill('SIGKILL');
    await a.exited(10_000);
    a = undefined;
    // The instance's registration outlives it (30 s lease): calls go on failing UNAVAILABLE until the breaker
    // has seen enough (go-zero: 5 protected, then total − 5 > 1.5 · accepts) and drops them without a call.
    const seen: string[] = [];
    await until(
      async () => {
        seen.push(await outcome(client));
        return seen.at(-1) === `UNAVAILABLE: ${BREAKER_OPEN}`;
      },
      30_000,
      'the breaker to open',
    );
    expect(seen.filter((s) => s.includes(BREAKER_OPEN))).toHaveLength(1);
    // 20 accepts weigh 30, plus go-zero's protection of 5: no drop before the 16th failure
    expect(seen.length).toBeGreaterThan(15);
    const started = performance.now();
    let fast = 0;
    for (let i = 0; i < 50; i++) if ((await outcome(client)).includes(BREAKER_OPEN)) fast++;
    expect(fast).toBeGreaterThan(10); // many are dropped (more as the failures and drops add up)…
    expect(performance.now() - started).toBeLessThan(5000); // …at once, not after a dial or a deadline

    a = await spawnInstance('a2', port, etcd, 30);
    // Closing: one call passes at least every second; successes weigh, failures leave the 10 s window.
    let run = 0;
    await until(
      async () => {
        const r = await outcome(client);
        run = r === 'ok' ? run + 1 : 0;
        if (r !== 'ok') expect(r).toMatch(/^UNAVAILABLE: /);
        await sleep(20);
        return run >= 30;
      },
      40_000,
      '30 calls in a row to succeed after the instance is back',
    );
  } finally {
    client.close();
    a?.kill('SIGTERM');
    await a?.exited(15_000).catch(() => a?.kill('SIGKILL'));
  }
});

test('dtm’s ABORTED (FAILURE) and FAILED_PRECONDITION never trip the breaker; INTERNAL does', {
  timeout: 60_000,
}, async () => {
  const port = await freePort();
  let answer = status.ABORTED;
  const server = new RpcServer(
    // Breaker off on the server: this checks the client's; Mode dev keeps the shedder out of it.
    {
      Name: 'codes',
      ListenOn: `127.0.0.1:${port}`,
      Mode: 'dev',
      Timeout: 2000,
      Middlewares: {
        Trace: true,
        Recover: true,
        Stat: false,
        StatConf: { SlowThreshold: 500, IgnoreContentMethods: [] },
        Prometheus: true,
        Breaker: false,
      },
    },
    (s) =>
      s.addService(TransSvcService, {
        transOut: (_c: unknown, cb: (e: Partial<ServiceError>) => void) =>
          cb({ code: answer, details: `answer ${answer}` }),
        transIn: (_c: unknown, cb: (e: Partial<ServiceError>) => void) =>
          cb({ code: answer, details: `answer ${answer}` }),
      }),
  );
  await server.start();
  // Endpoints differ per client (the breaker is per target + method, as go-zero's): a fresh breaker each.
  const c1 = await newRpcClient({ Endpoints: [`127.0.0.1:${port}`], NonBlock: false, Timeout: 2000 });
  const c2 = await newRpcClient({ Endpoints: [`localhost:${port}`], NonBlock: false, Timeout: 2000 });
  try {
    for (const code of [status.ABORTED, status.FAILED_PRECONDITION]) {
      answer = code;
      for (let i = 0; i < 200; i++) expect(await outcome(c1)).toBe(`${status[code]}: answer ${code}`);
    }
    answer = status.INTERNAL;
    const got: string[] = [];
    for (let i = 0; i < 200; i++) got.push(await outcome(c2));
    expect(got.slice(0, 6)).toEqual(Array(6).fill(`INTERNAL: answer ${status.INTERNAL}`));
    expect(got.filter((g) => g === `UNAVAILABLE: ${BREAKER_OPEN}`).length).toBeGreaterThan(100);
  } finally {
    c1.close();
    c2.close();
    await server.stop(0);
  }
});

async function shedProcess(mode: string): Promise<{ p: Proc; client: Client }> {
  const port = await freePort();
  // CpuThreshold 30 (3 % of the cores): the burn clears it even on a host so busy that it gets a tenth of a core.
  const p = runNode(SHED_INSTANCE, [String(port), mode, '30'], root);
  await p.waitFor(/^serving/m, 20_000);
  return { p, client: new GrpcClient(`127.0.0.1:${port}`, credentials.createInsecure()) };
}

function setBurners(client: Client, n: number): Promise<string> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      TransSvcService.transIn.path,
      TransSvcService.transIn.requestSerialize,
      TransSvcService.transIn.responseDeserialize,
      { Amount: BigInt(n), UserID: 0n },
      { deadline: Date.now() + 5000 },
      (err: ServiceError | null) => resolve(err ? `${status[err.code]}: ${err.details}` : 'ok'),
    );
  });
}

/**
 * Warm-up at low concurrency and latency (sets go-zero's maxPass·minRt), then 40 loops of 300 ms calls for
 * `ms`, or until `enough` says so.
 */
async function burst(
  client: Client,
  ms: number,
  enough: (results: string[]) => boolean = () => false,
): Promise<string[]> {
  const results: string[] = [];
  const warmEnd = Date.now() + 1000;
  await Promise.all(
    [0, 1].map(async () => {
      while (Date.now() < warmEnd) results.push(await outcome(client, 5n));
    }),
  );
  const end = Date.now() + ms;
  await Promise.all(
    Array.from({ length: 40 }, async () => {
      while (Date.now() < end && !enough(results)) {
        const r = await outcome(client, 300n, 5000);
        results.push(r);
        if (r !== 'ok') await sleep(20);
      }
    }),
  );
  return results;
}

test('shedder: RESOURCE_EXHAUSTED "service overloaded" under a CPU burn; none in dev Mode; serves again after', {
  timeout: 120_000,
}, async () => {
  const pro = await shedProcess('pro');
  const dev = await shedProcess('dev');
  try {
    for (const x of [pro, dev]) expect(await setBurners(x.client, 2)).toBe('ok');
    await sleep(3000); // the CPU reading is a 5 s moving average, refreshed every 250 ms
    const OVERLOADED = 'RESOURCE_EXHAUSTED: service overloaded';
    // Up to 40 s: on a busy host the burn's share of the CPU, and so the average, climbs slowly.
    const shed = await burst(pro.client, 40_000, (rs) => rs.filter((r) => r === OVERLOADED).length >= 10);
    const overloaded = shed.filter((r) => r === OVERLOADED).length;
    expect(
      overloaded,
      shed
        .filter((r) => r !== 'ok')
        .slice(0, 5)
        .join('\n'),
    ).toBeGreaterThan(0);
    // The drops are RESOURCE_EXHAUSTED, which the server's own breaker (outside the shedder, as in go-zero)
    // counts as failures: it may open too and answer UNAVAILABLE. Nothing else fails.
    const others = shed.filter((r) => r !== 'ok' && r !== OVERLOADED);
    expect(others.filter((r) => r !== `UNAVAILABLE: ${BREAKER_OPEN}`)).toEqual([]);
    expect(pro.p.stderr()).toMatch(/"content":"dropreq, cpu: \d+, maxPass: \d+/);

    const devResults = await burst(dev.client, 3000);
    expect(devResults.filter((r) => r !== 'ok')).toEqual([]);

    for (const x of [pro, dev]) expect(await setBurners(x.client, 0)).toBe('ok');
    // Once the average is back under the threshold (and 1 s of cool-off), calls pass again.
    let run = 0;
    await until(
      async () => {
        run = (await outcome(pro.client, 5n)) === 'ok' ? run + 1 : 0;
        await sleep(50);
        return run >= 20;
      },
      40_000,
      '20 calls in a row to pass after the burn',
    );
  } finally {
    for (const x of [pro, dev]) {
      x.client.close();
      x.p.kill('SIGTERM');
      await x.p.exited(10_000).catch(() => x.p.kill('SIGKILL'));
    }
  }
});
