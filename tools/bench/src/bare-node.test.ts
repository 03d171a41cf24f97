import { start } from '@dtm-gozero/devkit';
import { TransSvcService } from '@dtm-gozero/proto/trans';
import * as grpc from '@grpc/grpc-js';
import { expect, test } from 'vitest';
import { emitJs } from './trans-probe.ts';

const raw = (b: Buffer): Buffer => b;

/** One unary call with raw bytes; resolves with the reply or the gRPC error. */
function call(client: grpc.Client, path: string, body: Buffer): Promise<Buffer | grpc.ServiceError> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(path, raw, raw, body, { deadline: Date.now() + 5000 }, (err, reply) =>
      resolve(err ?? (reply as Buffer)),
    );
  });
}

// As the bench starts it (registration in etcd: test/integration/bench.int.test.ts): emitted JavaScript with
// grpc-js's URL and trans.proto's method paths. Every method answers an empty message whatever it is sent; a path
// it was not given is UNIMPLEMENTED, as in a grpc-js trans; SIGTERM ends it with 0.
test('the bare grpc-js server answers every TransSvc method at once and only those, and stops on SIGTERM', async () => {
  const paths = Object.values(TransSvcService).map((m) => m.path);
  expect(paths).toContain('/trans.TransSvc/TransOut');
  const child = start('bare grpc-js server', process.execPath, [
    emitJs('bare-node.ts', 'bare-node.mjs'),
    import.meta.resolve('@grpc/grpc-js'),
    ...paths,
  ]);
  try {
    await child.waitFor(/Starting rpc server at 127\.0\.0\.1:\d+\.\.\./, 15_000);
    const addr = /Starting rpc server at (\S+)\.\.\./.exec(child.stdout())?.[1] as string;
    const client = new grpc.Client(addr, grpc.credentials.createInsecure());
    try {
      for (const path of paths) {
        const reply = await call(client, path, Buffer.from([0x0a, 0x02, 0x08, 0x1e, 0xff]));
        expect(reply, path).toEqual(Buffer.alloc(0));
      }
      const unknown = await call(client, '/trans.TransSvc/Nope', Buffer.alloc(0));
      expect((unknown as grpc.ServiceError).code).toBe(grpc.status.UNIMPLEMENTED);
    } finally {
      client.close();
    }
    child.kill('SIGTERM');
    expect(await child.exited(5000)).toBe(0);
  } finally {
    await child.stop();
  }
});

test('without grpc-js or methods it says how to run it and exits 2', async () => {
  const child = start('bare grpc-js server', process.execPath, [emitJs('bare-node.ts', 'bare-node.mjs')]);
  expect(await child.exited(10_000)).toBe(2);
  expect(child.stderr()).toMatch(/usage: node bare-node\.mjs <file URL of @grpc\/grpc-js>/);
});
