// Fuzz of every request body a running trans accepts — each TransSvc method and grpc.health.v1.Health Check and
// Watch — truncated, random, oversized, of another message's type, with dtm's metadata present, partial or absent:
// each call gets a gRPC answer within its bound, trans stays up and healthy after every case, and nothing is half
// applied (every balance change has its ledger row, in the same transaction). trans runs as a process, with its
// bank in the suite's MariaDB (a database of this file's own), registered in the suite's etcd.
import { randomUUID } from 'node:crypto';
import type { Proc } from '@dtm-gozero/devkit';
import { testDatabases } from '@dtm-gozero/devkit/stack';
import { AdjustInfo, TransSvcService } from '@dtm-gozero/proto/trans';
import { Client, credentials, Metadata, status } from '@grpc/grpc-js';
import fc from 'fast-check';
import { createConnection } from 'mysql2/promise';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { INT64_MAX, INT64_MIN } from '../property/delivery.ts';
import { budgetMs, fuzzParams } from '../property/params.ts';
import { bankOf, dtmMetadata, ledgerSnapshot, rawCall, startBankTrans, unledgered } from '../support/bank-fixture.ts';

const RUNS = 120;
/** A call's bound: dtm's request timeout is 3 s; a well-formed call answers in milliseconds. */
const CALL_MS = 5000;
const DB = 'fuzz_bank';
const GID_PREFIX = `fuzz-${randomUUID().slice(0, 8)}`;

let trans: { proc: Proc; port: number };
let dsn: string;

beforeAll(async () => {
  const { mysql } = testDatabases();
  dsn = `${mysql.user}:${mysql.password}@tcp(${mysql.host}:${mysql.port})/${DB}?parseTime=true`;
  trans = await startBankTrans(`trans-fuzz-${randomUUID().slice(0, 8)}`, dsn);
}, 60_000);

afterAll(async () => {
  trans?.proc.kill('SIGTERM');
  // a trans frozen by a body ignores SIGTERM: it must not outlive the test
  await trans?.proc.exited(12_000).catch(() => trans.proc.kill('SIGKILL'));
  // XA phase 1 calls the fuzz sent without a phase 2 leave prepared transactions on the shared server: end them
  const c = await createConnection({ ...testDatabases().mysql });
  try {
    const [rows] = await c.query('XA RECOVER');
    for (const r of rows as { data: string }[]) {
      if (String(r.data).startsWith(GID_PREFIX)) await c.query(`XA ROLLBACK '${String(r.data)}'`);
    }
  } finally {
    await c.end();
  }
});

const TRANS_METHODS = Object.values(TransSvcService).map((m) => m.path);
const HEALTH_CHECK = '/grpc.health.v1.Health/Check';
const HEALTH_WATCH = '/grpc.health.v1.Health/Watch';

/** A length-delimited field 1 (HealthCheckRequest.service), the wrong type for AdjustInfo. */
const stringField = (s: string) => Buffer.concat([Buffer.from([0x0a, Buffer.byteLength(s)]), Buffer.from(s)]);

const adjustArb = fc
  .record({
    Amount: fc.oneof(
      fc.constantFrom(0n, 1n, 30n, -1n, INT64_MAX, INT64_MIN),
      fc.bigInt({ min: INT64_MIN, max: INT64_MAX }),
    ),
    UserID: fc.oneof(fc.constantFrom(1n, 2n, 0n, -1n, 99n, INT64_MAX), fc.bigInt({ min: INT64_MIN, max: INT64_MAX })),
  })
  .map((a) => Buffer.from(AdjustInfo.encode(a).finish()));

const bodyArb: fc.Arbitrary<Buffer> = fc.oneof(
  adjustArb,
  // truncated anywhere, the last varint included
  fc.tuple(adjustArb, fc.nat()).map(([b, n]) => b.subarray(0, b.length === 0 ? 0 : n % b.length)),
  fc.constantFrom(
    Buffer.from([0x80]),
    Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
    Buffer.from([0x08]),
    Buffer.from([0x0a, 0x7f]), // a length past the end
    Buffer.from([0x0d, 0x00]), // fixed32 where a varint is due
    Buffer.alloc(0),
  ),
  fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
  fc.string({ maxLength: 40 }).map(stringField),
  fc.nat({ max: 256 * 1024 }).map((n) => Buffer.alloc(n, 0x08)), // large: a field tag repeated with no value
);

const mdArb = fc.oneof(
  fc.constant('none' as const),
  fc.record({
    type: fc.constantFrom('saga', 'tcc', 'msg', 'xa', 'workflow', ''),
    op: fc.constantFrom('action', 'compensate', 'try', 'confirm', 'cancel', 'commit', 'rollback', 'msg', ''),
    branch: fc.constantFrom('01', '02', '00', ''),
    gid: fc.oneof(fc.constant('fresh'), fc.constantFrom('', "x'y", 'a'.repeat(200))),
  }),
);

function metadataOf(m: typeof mdArb extends fc.Arbitrary<infer T> ? T : never): Metadata {
  if (m === 'none') return new Metadata();
  const md = dtmMetadata(m.type, m.gid === 'fresh' ? `${GID_PREFIX}-${randomUUID()}` : m.gid, m.branch, m.op);
  for (const k of ['dtm-trans_type', 'dtm-gid', 'dtm-branch_id', 'dtm-op']) {
    if (md.get(k)[0] === '') md.remove(k);
  }
  return md;
}

/** Health/Watch with a raw body: resolves when the stream answers (a message or a status) or its deadline ends it. */
function watch(port: number, body: Buffer, ms: number): Promise<{ messages: number; code: number }> {
  const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure());
  return new Promise((resolve) => {
    let messages = 0;
    const call = client.makeServerStreamRequest(
      HEALTH_WATCH,
      (b: Buffer) => b,
      (b: Buffer) => b,
      body,
      new Metadata(),
      { deadline: Date.now() + ms },
    );
    const done = (code: number) => {
      client.close();
      resolve({ messages, code });
    };
    call.on('data', () => {
      messages++;
      call.cancel(); // one status is the answer; the stream would stay open
    });
    call.on('error', (e: { code: number }) => done(e.code));
    call.on('end', () => done(status.OK));
  });
}

const healthy = async (): Promise<void> => {
  const r = await rawCall(trans.port, HEALTH_CHECK, Buffer.alloc(0), new Metadata(), 3000);
  expect(r, 'trans answers a good health check after the case').toMatchObject({ code: status.OK });
};

test(
  'every TransSvc and Health body: an answer within its bound, trans healthy after each, nothing half applied',
  async () => {
    const bank = bankOf(dsn);
    const codes = new Map<string, number>();
    try {
      const start = await ledgerSnapshot(bank);
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...TRANS_METHODS, HEALTH_CHECK, HEALTH_WATCH),
          bodyArb,
          mdArb,
          async (method, body, m) => {
            if (method === HEALTH_WATCH) {
              const r = await watch(trans.port, body, CALL_MS);
              // a status stream answers with a message at once, or refuses the body with a status
              expect(r.messages > 0 || r.code !== status.DEADLINE_EXCEEDED, `Watch with ${body.toString('hex')}`).toBe(
                true,
              );
              const k = `Watch ${r.messages > 0 ? 'message' : status[r.code]}`;
              codes.set(k, (codes.get(k) ?? 0) + 1);
            } else {
              const r = await rawCall(trans.port, method, body, metadataOf(m), CALL_MS);
              expect(r.code, `${method} ${body.subarray(0, 32).toString('hex')}: ${r.details}`).not.toBe(
                status.DEADLINE_EXCEEDED,
              );
              expect(r.code).not.toBe(status.CANCELLED);
              const k = `${method.replace(/^.*\//, '')} ${status[r.code]}`;
              codes.set(k, (codes.get(k) ?? 0) + 1);
            }
            await healthy();
          },
        ),
        {
          ...fuzzParams(RUNS),
          // always in CI: the byte that froze the hand-written health decoder (issue #16), on each service
          examples: [
            [HEALTH_CHECK, Buffer.from([0x80]), 'none'],
            [HEALTH_WATCH, Buffer.from([0x80]), 'none'],
            [
              TransSvcService.transOut.path,
              Buffer.from([0x80]),
              { type: 'saga', op: 'action', branch: '01', gid: 'fresh' },
            ],
          ],
        },
      );
      // every change of a balance since the start has its ledger row, and every ledger row its change
      expect(await unledgered(bank, start)).toEqual([]);
    } finally {
      await bank.close();
      process.stdout.write(`fuzz answers: ${[...codes].map(([k, n]) => `${k} ×${n}`).join(', ')}\n`);
    }
    expect(trans.proc.child.exitCode, 'trans is still running').toBeNull();
  },
  budgetMs(RUNS, 120_000),
);
