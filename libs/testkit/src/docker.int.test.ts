import { type BusiServer, startTransSvc } from '@dtm-gozero/devkit/busi';
import { docker, skipReason } from '@dtm-gozero/devkit/docker';
import { openPortsAfter } from '@dtm-gozero/devkit/victim';
import { closeConnections, genGid, MsgGrpc, tccGlobalTransaction } from '@dtm-gozero/dtmgrpc';
import { TransSvcService } from '@dtm-gozero/proto/trans';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { queryTrans } from './dtm-status.ts';
import { startDtmStack } from './stack.ts';
import type { DtmStack } from './types.ts';

// The docker backend for real (DTM_TESTKIT_BACKEND=docker): etcd, dtm and the store in containers on this
// machine's Docker (npm run docker:setup), host networking, free ports. Skipped, saying why, where no engine runs.
const SKIP = skipReason("the testkit's docker backend tests");
let busi: BusiServer;

beforeAll(async () => {
  if (!SKIP) busi = await startTransSvc();
});
afterAll(async () => {
  await busi?.stop();
  closeConnections();
});

async function dtmStatus(stack: DtmStack, gid: string): Promise<string | undefined> {
  return (await queryTrans(stack.dtmHttp, gid)).transaction?.status;
}

/** A msg and a tcc through the stack's dtm (found through its etcd), both to `succeed`. */
async function msgAndTcc(stack: DtmStack): Promise<string[]> {
  const msgGid = await genGid(stack.dtmTarget);
  const msg = new MsgGrpc(stack.dtmTarget, msgGid)
    .add(busi.target, TransSvcService.transOut, { Amount: 30n, UserID: 1n })
    .add(busi.target, TransSvcService.transIn, { Amount: 30n, UserID: 2n });
  msg.options.waitResult = true;
  await msg.submit();
  const tccGid = await genGid(stack.dtmTarget);
  await tccGlobalTransaction(
    stack.dtmTarget,
    tccGid,
    async (tcc) => {
      await tcc.callBranch(
        busi.target,
        {
          try: TransSvcService.transOut,
          confirm: TransSvcService.transOutConfirm,
          cancel: TransSvcService.transOutRevert,
        },
        { Amount: 30n, UserID: 1n },
      );
    },
    (t) => {
      t.options.waitResult = true;
    },
  );
  expect(busi.log(msgGid)).toEqual(['TransOut:action', 'TransIn:action']);
  expect(busi.log(tccGid)).toEqual(['TransOut:try', 'TransOutConfirm:confirm']);
  for (const gid of [msgGid, tccGid]) expect(await dtmStatus(stack, gid)).toBe('succeed');
  return [msgGid, tccGid];
}

/** Containers of a stack still present (running or not). */
const containersOf = (stack: DtmStack): string =>
  docker([
    'ps',
    '-aq',
    '--filter',
    `label=dtm-gozero.testkit.stack`,
    ...stack.containerIds.map((id) => `--filter=id=${id}`),
  ]).stdout.trim();

async function expectGone(stack: DtmStack): Promise<void> {
  expect(containersOf(stack)).toBe('');
  expect(await openPortsAfter(stack)).toEqual([]);
}

describe.skipIf(SKIP)('docker backend', () => {
  test('boltdb: start, a msg and a tcc to succeed, stop, nothing left', { timeout: 180_000 }, async () => {
    const stack = await startDtmStack({ backend: 'docker', store: 'boltdb' });
    try {
      expect(stack).toMatchObject({ backend: 'docker', store: 'boltdb', pids: [] });
      expect(stack.containerIds).toHaveLength(2);
      await msgAndTcc(stack);
    } finally {
      await stack.stop();
    }
    await expectGone(stack);
  });

  test('mysql (MariaDB): the store holds the transactions; stop removes its container too', {
    timeout: 240_000,
  }, async () => {
    const stack = await startDtmStack({ backend: 'docker', store: 'mysql' });
    try {
      expect(stack.containerIds).toHaveLength(3);
      const [gid] = await msgAndTcc(stack);
      // dtm's row in the store container's database, read with the image's own client.
      const mysqlId = stack.containerIds[0] as string;
      const sql = `SELECT status FROM dtm.trans_global WHERE gid='${gid}'`;
      const r = docker(['exec', mysqlId, 'sh', '-c', `mariadb -N -uroot -p"$MARIADB_ROOT_PASSWORD" -e "${sql}"`]);
      expect(r.stdout.trim(), r.stderr).toBe('succeed');
    } finally {
      await stack.stop();
    }
    await expectGone(stack);
  });

  test('redis, and two stacks at once (redis + boltdb) on distinct ports and containers', {
    timeout: 240_000,
  }, async () => {
    const [a, b] = await Promise.all([
      startDtmStack({ backend: 'docker', store: 'redis' }),
      startDtmStack({ backend: 'docker', store: 'boltdb' }),
    ]);
    try {
      const portsA = Object.values(a.ports).filter(Boolean);
      const portsB = Object.values(b.ports).filter(Boolean);
      expect(portsA.filter((p) => portsB.includes(p))).toEqual([]);
      expect(a.containerIds.filter((id) => b.containerIds.includes(id))).toEqual([]);
      const [gidA, gidB] = await Promise.all([msgAndTcc(a), msgAndTcc(b)]).then(([x, y]) => [x[0], y[0]]);
      // Each dtm knows only its own transactions.
      expect(await dtmStatus(b, gidA as string)).not.toBe('succeed');
      expect(await dtmStatus(a, gidB as string)).not.toBe('succeed');
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
    await expectGone(a);
    await expectGone(b);
  });
});
