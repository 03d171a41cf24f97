import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { bin, freePort, start, stopGrpcServer } from '@dtm-gozero/devkit';
import { dtmStatus } from '@dtm-gozero/devkit/dtm';
import { testStack } from '@dtm-gozero/devkit/stack';
import { closeConnections, DtmFailure, localGid, WorkflowRegistry } from '@dtm-gozero/dtmgrpc';
import { AdjustInfo, TransSvcService as Svc } from '@dtm-gozero/proto/trans';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildGo, startTrans, type Trans, transcript } from '../../scripts/lib/twins.ts';

// Workflows across languages, through the suite's real etcd + dtm: a workflow of our client whose branches are the
// go-zero trans (interop/gozero/trans), and a workflow registered with dtm's Go client (interop/gozero/wf, package
// workflow of github.com/dtm-labs/client v1.17.3) whose branches are our trans. Both traces are trans's log lines.
const stack = testStack();
const hosts = stack.etcdEndpoints;
const OUT = 'transfer out 30 cents from 1';
const IN = 'transfer in 30 cents to 2';
const FAILED = ': FAILURE (asked for by the caller)';

beforeAll(() => {
  process.stdout.write(`go-workflow: ${buildGo()}\n`);
}, 900_000);
afterAll(() => closeConnections());

/** trans's lines since `from` (a length of its stderr). */
const linesSince = (t: Trans, from: number): string[] => transcript(t.child.stderr().slice(from));

describe('our workflow → the go-zero trans', () => {
  let trans: Trans;
  let server: Server;
  let registry: WorkflowRegistry;
  const key = `go-trans-wf-${randomUUID().slice(0, 8)}`;
  const target = `etcd://${hosts.join(',')}/${key}`;

  beforeAll(async () => {
    trans = await startTrans('go', hosts, key);
    const port = await freePort();
    registry = new WorkflowRegistry(stack.dtmTarget, `127.0.0.1:${port}`);
    registry.register(
      'to-go',
      async (wf, out) => {
        const in_ = { Amount: out.Amount, UserID: out.UserID + 1n };
        wf.newBranch().onRollback(() => wf.callBranch(target, Svc.transOutRevert, out));
        await wf.callBranch(target, Svc.transOut, out);
        wf.newBranch()
          .onCommit(() => wf.callBranch(target, Svc.transInConfirm, in_))
          .onRollback(() => wf.callBranch(target, Svc.transInRevert, in_));
        await wf.callBranch(target, Svc.transIn, in_);
      },
      undefined,
      AdjustInfo,
    );
    server = new Server();
    registry.addTo(server);
    await new Promise<void>((resolve, reject) =>
      server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())),
    );
  }, 60_000);
  afterAll(async () => {
    if (server) await stopGrpcServer(server);
    await trans?.child.stop();
  });

  test('succeeds: the Go trans logs the actions, then the confirm', async () => {
    const from = trans.child.stderr().length;
    const gid = localGid();
    await registry.execute('to-go', gid, { Amount: 30n, UserID: 1n });
    expect(await dtmStatus(gid)).toBe('succeed');
    expect(linesSince(trans, from)).toEqual([OUT, IN, `confirm ${IN}`]);
  });

  test('TransIn answers FAILURE: the workflow rolls the saga step back on the Go trans', async () => {
    const from = trans.child.stderr().length;
    const gid = localGid();
    const err = await registry
      .execute(
        'to-go',
        gid,
        { Amount: 30n, UserID: 1n },
        {
          custom: (wf) => {
            wf.options.branchHeaders = { 'trans-fail': 'TransIn' };
          },
        },
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DtmFailure);
    expect(await dtmStatus(gid)).toBe('failed');
    expect(linesSince(trans, from)).toEqual([OUT, `${IN}${FAILED}`, `revert ${OUT}`]);
  });
});

describe("dtm's Go workflow client → our trans", () => {
  let trans: Trans;
  const key = `ts-trans-wf-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    trans = await startTrans('ts', hosts, key);
  }, 60_000);
  afterAll(async () => {
    await trans?.child.stop();
  });

  const goWf = async (gid: string, fail: boolean): Promise<string> => {
    const args = ['-dtm', stack.dtmTarget, '-trans', `etcd://${hosts.join(',')}/${key}`, '-gid', gid];
    const p = start('go-wf', join(bin, 'go-wf'), fail ? [...args, '-fail'] : args);
    expect(await p.exited(45_000), p.stderr()).toBe(0);
    return p.stdout().trim();
  };

  test('succeeds: our trans logs the actions, then the confirm', async () => {
    const from = trans.child.stderr().length;
    const gid = localGid();
    expect(await goWf(gid, false)).toBe(`workflow ${gid} ok`);
    expect(await dtmStatus(gid)).toBe('succeed');
    expect(linesSince(trans, from)).toEqual([OUT, IN, `confirm ${IN}`]);
  });

  test('TransIn answers FAILURE: the Go workflow rolls the saga step back on our trans', async () => {
    const from = trans.child.stderr().length;
    const gid = localGid();
    expect(await goWf(gid, true)).toMatch(
      new RegExp(`^workflow ${gid} error: .*TransIn: FAILURE asked for by the caller`),
    );
    expect(await dtmStatus(gid)).toBe('failed');
    expect(linesSince(trans, from)).toEqual([OUT, `${IN}${FAILED}`, `revert ${OUT}`]);
  });
});
