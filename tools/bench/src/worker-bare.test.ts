import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { expect, test } from 'vitest';

const WORKER = join(import.meta.dirname, 'worker-bare.ts');

// The bare grpc-js app's transactions against the real dtm are checked by test/integration/bench.int.test.ts (the
// Node floor row of --compare); here its refusals, each a message and exit 1, never a hang.
test('the bare grpc-js app: a bad --dtm-addr, or a dtm that never answers, ends it with a message naming the problem', async () => {
  const bad = spawnSync(process.execPath, [WORKER, '--dtm-addr', 'etcd://127.0.0.1:2379/dtmservice'], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  expect(bad.status).toBe(1);
  expect(bad.stderr).toMatch(/--dtm-addr etcd:\/\/127\.0\.0\.1:2379\/dtmservice: want dtm's gRPC host:port/);
  expect(bad.stdout).not.toMatch(/ready/);

  // A TCP port that accepts and never speaks HTTP/2: NewGid ends at its deadline (10 s), not later.
  const silent = createServer(() => undefined);
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const { port } = silent.address() as { port: number };
  try {
    const t0 = Date.now();
    // spawnSync blocks this process, yet the kernel completes the TCP handshake: the worker sees a peer that is silent
    const mute = spawnSync(process.execPath, [WORKER, '--dtm-addr', `127.0.0.1:${port}`], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(mute.status).toBe(1);
    expect(mute.stderr).toMatch(/^bench-worker \(bare grpc-js\): 4 DEADLINE_EXCEEDED/);
    expect(mute.stdout).not.toMatch(/ready/);
    expect(Date.now() - t0).toBeLessThan(25_000);
  } finally {
    silent.close();
  }
}, 60_000);
