import { freePort, type Proc, root, runNode, stopGrpcServer, WORKFLOW_SERVICE } from '@dtm-gozero/devkit';
import { type BusiServer, startTransSvc } from '@dtm-gozero/devkit/busi';
import { DTM_ETCD, DTM_GRPC, dtmOptions, dtmQuery, dtmStatus, finalTrans } from '@dtm-gozero/devkit/dtm';
import { testDatabases, testStack } from '@dtm-gozero/devkit/stack';
import { RpcServer } from '@dtm-gozero/gozero';
import { AdjustInfo, TransSvcService as Svc } from '@dtm-gozero/proto/trans';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { createPool, type Pool as MysqlPool } from 'mysql2/promise';
import { Pool as PgPool } from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { closeConnections, invokeUnary } from '../conn.ts';
import { DtmError, DtmFailure, DtmInputError, DtmOngoing, toGrpcStatus } from '../errors.ts';
import { WorkflowService } from '../gen/workflow.ts';
import { localGid } from '../trans-base.ts';
import type { XaDb } from '../xa/contract.ts';
import { WorkflowDataError, WorkflowRegistry } from './registry.ts';
import type { Workflow } from './workflow.ts';

// Workflows against the real dtm: the branches are an in-process trans.TransSvc that records every call (with its
// dtm metadata), the local and XA steps write to the suite's MariaDB / Postgres, and dtm's own record of the
// workflow is read back from its query API.
const req = { Amount: 30n, UserID: 1n };
let busi: BusiServer;
let mysql: MysqlPool;
let pg: PgPool;
let server: Server;
let registry: WorkflowRegistry;
/** Per gid: the step (`xa`, `late`) that must fail with FAILURE, or throw a plain error (`crash`). */
const failAt = new Map<string, string>();

const rows = async (table: string, gid: string): Promise<string[]> => {
  const [r] = await mysql.query(`SELECT step FROM dtm_wf_test.${table} WHERE gid = ? ORDER BY step`, [gid]);
  return (r as { step: string }[]).map((x) => x.step);
};

/** The workflow of most tests: a saga step, a TCC step and an XA step (MariaDB, or Postgres with `pg-` gids). */
async function transfer(wf: Workflow, r: AdjustInfo): Promise<Uint8Array> {
  const t = busi.target;
  // saga: the action now, its compensation if the workflow rolls back
  wf.newBranch().onRollback(() => wf.callBranch(t, Svc.transOutRevert, r));
  await wf.callBranch(t, Svc.transOut, r);
  // TCC: the try now, confirm on success, cancel on rollback
  wf.newBranch()
    .onCommit(() => wf.callBranch(t, Svc.transInConfirm, r))
    .onRollback(() => wf.callBranch(t, Svc.transInRevert, r));
  await wf.callBranch(t, Svc.transIn, r);
  if (failAt.get(wf.gid) === 'crash') throw new TypeError('the service lost its way');
  // XA: a local transaction, prepared now, committed or rolled back when the workflow ends
  wf.newBranch();
  const onPg = wf.gid.startsWith('pg-');
  await wf.doXa((onPg ? { postgres: pg } : { mysql }) as XaDb<unknown>, async (conn) => {
    const sql = onPg
      ? 'INSERT INTO dtm_wf_test.wf_xa (gid, step) VALUES ($1, $2)'
      : 'INSERT INTO dtm_wf_test.wf_xa (gid, step) VALUES (?, ?)';
    await (conn as { query(s: string, v: unknown[]): Promise<unknown> }).query(sql, [wf.gid, '03']);
    if (failAt.get(wf.gid) === 'xa') throw new DtmFailure('the XA step refuses');
  });
  return Buffer.from(`moved ${r.Amount}`);
}

beforeAll(async () => {
  busi = await startTransSvc();
  const dbs = testDatabases();
  mysql = createPool({ ...dbs.mysql, connectionLimit: 5 });
  await mysql.query('CREATE DATABASE IF NOT EXISTS dtm_wf_test');
  for (const t of ['wf_local', 'wf_xa']) {
    await mysql.query(`CREATE TABLE IF NOT EXISTS dtm_wf_test.${t} (gid VARCHAR(128), step VARCHAR(8))`);
  }
  pg = new PgPool({ connectionString: dbs.postgresUrl, max: 3 });
  await pg.query('CREATE SCHEMA IF NOT EXISTS dtm_wf_test');
  await pg.query('CREATE TABLE IF NOT EXISTS dtm_wf_test.wf_xa (gid VARCHAR(128), step VARCHAR(8))');
  const port = await freePort();
  registry = new WorkflowRegistry(DTM_GRPC, `127.0.0.1:${port}`);
  registry.register('transfer', transfer, undefined, AdjustInfo);
  registry.register('bytes', async (wf, data) => {
    const got = await wf.newBranch().do(async () => Buffer.concat([Buffer.from('seen:'), data]));
    return got;
  });
  server = new Server();
  registry.addTo(server);
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())),
  );
});
afterAll(async () => {
  if (server) await stopGrpcServer(server);
  await busi?.stop();
  closeConnections();
  await mysql?.end();
  await pg?.end();
});

describe('workflow against the real dtm', () => {
  test('saga + TCC + XA steps succeed: actions, then commits in reverse order; dtm reports succeed', async () => {
    const gid = localGid();
    const result = await registry.execute('transfer', gid, req);
    expect(result.toString()).toBe('moved 30');
    expect(busi.log(gid, true)).toEqual(['TransOut:action:01', 'TransIn:action:02', 'TransInConfirm:commit:02']);
    expect(busi.calls.find((c) => c.gid === gid)?.transType).toBe('workflow');
    expect(busi.calls.find((c) => c.gid === gid)?.dtm).toBe(DTM_GRPC);
    const t = await dtmQuery(gid);
    expect(t.transaction?.status).toBe('succeed');
    expect(t.transaction?.trans_type).toBe('workflow');
    expect(JSON.parse(t.transaction?.custom_data ?? '{}')).toEqual({
      name: 'transfer',
      data: Buffer.from(AdjustInfo.encode(req).finish()).toString('base64'),
    });
    // every step recorded once in dtm, with its op (the XA step also records its local `business` part)
    expect(t.branches.map((b) => `${b.branch_id}-${b.op}-${b.status}`).sort()).toEqual([
      '01-action-succeed',
      '02-action-succeed',
      '02-commit-succeed',
      '03-action-succeed',
      '03-business-succeed',
      '03-commit-succeed',
    ]);
    expect(await rows('wf_xa', gid)).toEqual(['03']);
    const [prepared] = await mysql.query('XA RECOVER');
    expect((prepared as { data: unknown }[]).map((r) => String(r.data))).not.toContain(`${gid}-03`);
  });

  test('the XA step on Postgres commits too', async () => {
    const gid = `pg-${localGid()}`;
    await registry.execute('transfer', gid, req);
    expect((await pg.query('SELECT step FROM dtm_wf_test.wf_xa WHERE gid = $1', [gid])).rows).toEqual([{ step: '03' }]);
    expect(await dtmStatus(gid)).toBe('succeed');
  });

  test('FAILURE in the last step rolls the earlier steps back in reverse order; dtm reports failed', async () => {
    const gid = localGid();
    failAt.set(gid, 'xa');
    const err = await registry.execute('transfer', gid, req).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DtmFailure);
    expect((err as Error).message).toContain('the XA step refuses');
    // TCC cancel (step 02) before the saga compensation (step 01); the refused XA step has nothing to roll back
    expect(busi.log(gid, true)).toEqual([
      'TransOut:action:01',
      'TransIn:action:02',
      'TransInRevert:rollback:02',
      'TransOutRevert:rollback:01',
    ]);
    const t = await dtmQuery(gid);
    expect(t.transaction?.status).toBe('failed');
    expect(t.transaction?.rollback_reason).toContain('the XA step refuses');
    expect(await rows('wf_xa', gid)).toEqual([]);
    // run again: dtm says failed, nothing is called
    await expect(registry.execute('transfer', gid, req)).rejects.toBeInstanceOf(DtmFailure);
    expect(busi.log(gid)).toHaveLength(4);
  });

  test('the same gid twice: a finished workflow is not run again; an unfinished one replays its finished steps', async () => {
    const gid = localGid();
    await registry.execute('transfer', gid, req);
    await registry.execute('transfer', gid, req);
    expect(busi.log(gid)).toEqual(['TransOut:action', 'TransIn:action', 'TransInConfirm:commit']);

    const g2 = localGid();
    failAt.set(g2, 'crash');
    const err = await registry.execute('transfer', g2, req).catch((e: unknown) => e);
    // a non-dtm error: typed, says what happens next, and the workflow stays for dtm
    expect(err).toBeInstanceOf(DtmError);
    expect((err as Error).message).toMatch(/handler threw TypeError \(the service lost its way\).*left unfinished/);
    expect(await dtmStatus(g2)).toBe('prepared');
    failAt.delete(g2);
    await registry.execute('transfer', g2, req);
    // steps 01 and 02 were replayed from dtm, not called again
    expect(busi.log(g2)).toEqual(['TransOut:action', 'TransIn:action', 'TransInConfirm:commit']);
    expect(await dtmStatus(g2)).toBe('succeed');
    expect(await rows('wf_xa', g2)).toEqual(['03']);
  });

  test('results of recorded steps come back on a resume; data and result are bytes as in Go', async () => {
    const gid = localGid();
    expect((await registry.execute('bytes', gid, Buffer.from('abc'))).toString()).toBe('seen:abc');
    const t = await dtmQuery(gid);
    expect(t.branches.find((b) => b.branch_id === '01')?.bin_data).toBe(Buffer.from('seen:abc').toString('base64'));
  });

  test('SIGKILL in the middle: dtm resumes the workflow through the restarted service, each step exactly once', async () => {
    const port = await freePort();
    const gid = localGid();
    const env = { WF_DTM: DTM_GRPC, WF_BUSI: busi.target, WF_MYSQL: `${testDatabases().mysqlUrl}` };
    const script = WORKFLOW_SERVICE;
    let proc: Proc | undefined = runNode(script, [String(port), gid, 'pause'], root, env);
    try {
      await proc.waitFor(new RegExp(`PAUSED ${gid}`), 20_000);
      proc.kill('SIGKILL');
      await proc.exited(10_000);
      expect(await dtmStatus(gid)).toBe('prepared');
      expect(busi.log(gid)).toEqual(['TransOut:action']);
      expect(await rows('wf_local', gid)).toEqual(['02']);
      proc = runNode(script, [String(port)], root, env);
      await proc.waitFor(/LISTENING/, 20_000);
      const t = await finalTrans(gid, 90_000);
      expect(t.transaction?.status).toBe('succeed');
    } finally {
      proc?.kill('SIGTERM');
      await proc?.exited(10_000).catch(() => proc?.kill('SIGKILL'));
    }
    // every step ran exactly once: the branch calls, and the rows of the local and XA steps in the database
    expect(busi.log(gid, true)).toEqual(['TransOut:action:01', 'TransIn:action:05', 'TransInConfirm:commit:05']);
    expect(await rows('wf_local', gid)).toEqual(['02', '03']);
    expect(await rows('wf_xa', gid)).toEqual(['04']);
    const [prepared] = await mysql.query('XA RECOVER');
    expect((prepared as { data: unknown }[]).map((r) => String(r.data))).not.toContain(`${gid}-04`);
  }, 150_000);
});

describe('the callback service on RpcServer, registered in etcd', () => {
  test('dtm finds the service through etcd and resumes the workflow there; finished steps are not run again', async () => {
    const etcd = { Hosts: testStack().etcdEndpoints, Key: `wf-rpc-${localGid()}` };
    const r = new WorkflowRegistry(DTM_ETCD, `etcd://${etcd.Hosts.join(',')}/${etcd.Key}`);
    const ran: string[] = [];
    let crash = true;
    r.register(
      'rpc-wf',
      async (wf) => {
        await wf.newBranch().do(async () => {
          ran.push('01');
        });
        if (crash) {
          crash = false;
          throw new TypeError('first run dies here');
        }
        await wf.newBranch().do(async () => {
          ran.push('02');
        });
      },
      (wf) => {
        wf.options.retryInterval = 1;
      },
    );
    const server = new RpcServer(
      { Name: 'wf.rpc', ListenOn: `127.0.0.1:${await freePort()}`, Mode: 'pro', Timeout: 5000, Etcd: etcd },
      (s) => r.addTo(s),
    );
    await server.start();
    try {
      const gid = localGid();
      await expect(r.execute('rpc-wf', gid, Buffer.alloc(0))).rejects.toThrow(/first run dies here/);
      expect(await dtmStatus(gid)).toBe('prepared');
      expect((await finalTrans(gid, 60_000)).transaction?.status).toBe('succeed');
      expect(ran).toEqual(['01', '02']);
    } finally {
      await server.stop(1000);
    }
  }, 90_000);
});

describe('workflow options and guards', () => {
  test('compensateErrorBranch, a gRPC-error mapping of its own, and the transaction options reach dtm', async () => {
    const gid = localGid();
    // TransIn answers INVALID_ARGUMENT: by default a plain error (left for dtm); mapped here to FAILURE
    busi.on('TransIn', () => Promise.reject(Object.assign(new Error('bad'), { code: 3, details: 'bad account' })), gid);
    const r = new WorkflowRegistry(DTM_GRPC, registry.callbackUrl.replace('/workflow.Workflow/Execute', ''));
    let stored: Record<string, unknown> = {};
    r.register(
      'opts',
      async (wf) => {
        wf.newBranch().onRollback(() => wf.callBranch(busi.target, Svc.transOutRevert, req));
        await wf.callBranch(busi.target, Svc.transOut, req);
        // read while prepared: dtm's boltdb store keeps only what the final Submit carries, options not among them
        stored = dtmOptions(await dtmQuery(wf.gid));
        wf.newBranch().onRollback(() => wf.callBranch(busi.target, Svc.transInRevert, req));
        await wf.callBranch(busi.target, Svc.transIn, req);
      },
      (wf) => {
        wf.options.compensateErrorBranch = true;
        wf.options.grpcErrorToDtmError = (err, context) =>
          (err as { code?: number }).code === 3 ? new DtmFailure(`${context}: refused for good`) : err;
        wf.options.timeoutToFail = 60;
        wf.options.retryInterval = 7;
      },
    );
    const err = await r.execute('opts', gid, Buffer.alloc(0)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DtmFailure);
    expect((err as Error).message).toMatch(/branch 02 action .*TransIn: refused for good/);
    // the failed branch is compensated too (compensateErrorBranch), last first
    expect(busi.log(gid, true)).toEqual([
      'TransOut:action:01',
      'TransIn:action:02',
      'TransInRevert:rollback:02',
      'TransOutRevert:rollback:01',
    ]);
    const t = await dtmQuery(gid);
    expect(t.transaction?.status).toBe('failed');
    expect(stored).toMatchObject({ timeout_to_fail: 60, retry_interval: 7 });
  });

  test('the same gid running in this process is answered ONGOING (dtm calling back early retries later)', async () => {
    const gid = localGid();
    let release: () => void = () => undefined;
    let reached: () => void = () => undefined;
    const atGate = new Promise<void>((res) => {
      reached = res;
    });
    const r = new WorkflowRegistry(DTM_GRPC, '127.0.0.1:1');
    r.register('gate', async (wf) => {
      await wf.newBranch().do(async () => {
        reached();
        await new Promise<void>((res) => {
          release = res;
        });
      });
    });
    const first = r.execute('gate', gid, Buffer.alloc(0));
    await atGate;
    await expect(r.execute('gate', gid, Buffer.alloc(0))).rejects.toBeInstanceOf(DtmOngoing);
    release();
    await first;
    expect(await dtmStatus(gid)).toBe('succeed');
  });

  test('an AbortSignal stops the run before the next step; the workflow stays for dtm', async () => {
    const gid = localGid();
    const ac = new AbortController();
    const r = new WorkflowRegistry(DTM_GRPC, '127.0.0.1:1');
    const ran: string[] = [];
    r.register('abortable', async (wf) => {
      await wf.newBranch().do(async () => {
        ran.push('01');
        ac.abort();
      });
      await wf.newBranch().do(async () => {
        ran.push('02');
      });
    });
    const err = await r.execute('abortable', gid, Buffer.alloc(0), { signal: ac.signal }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DtmError);
    expect((err as Error).message).toMatch(/AbortError.*left unfinished and dtm resumes it/);
    expect(ran).toEqual(['01']);
    expect(await dtmStatus(gid)).toBe('prepared');
  });
});

describe('workflow bad input: typed errors, nothing sent to dtm', () => {
  test('an unregistered name', async () => {
    const gid = localGid();
    const err = await registry.execute('nope', gid, req).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DtmInputError);
    expect((err as Error).message).toMatch(/workflow 'nope' is not registered \(registered: transfer, bytes\)/);
    expect(await dtmStatus(gid)).toBeUndefined();
  });

  test('dtm down: a DtmError that names dtm and the fix, within the call deadline', async () => {
    const r = new WorkflowRegistry('127.0.0.1:1', '127.0.0.1:1');
    r.register(
      'down',
      async () => undefined,
      (wf) => {
        wf.options.callTimeoutMs = 3000;
      },
    );
    const started = Date.now();
    const err = await r.execute('down', localGid(), Buffer.alloc(0)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DtmError);
    expect((err as Error).message).toMatch(
      /dtm PrepareWorkflow \(workflow 'down' \S+\) via 127\.0\.0\.1:1 failed \(is dtm running and registered\? or pass its direct address\)/,
    );
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  test('a name registered twice', () => {
    expect(() => registry.register('transfer', async () => undefined)).toThrow(
      /workflow 'transfer' is registered already/,
    );
  });

  test('a branch descriptor that is not unary', async () => {
    const gid = localGid();
    const r = new WorkflowRegistry(DTM_GRPC, '127.0.0.1:1');
    const streaming = { ...Svc.transOut, responseStream: true } as unknown as typeof Svc.transOut;
    r.register('streaming', async (wf) => {
      await wf.newBranch().callBranch(busi.target, streaming, req);
    });
    const err = await r.execute('streaming', gid, Buffer.alloc(0)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DtmInputError);
    expect((err as Error).message).toMatch(/streaming method; dtm can only call unary methods/);
    expect(busi.log(gid)).toEqual([]);
    // a handler that misuses the API would stop there on every resume: the workflow ends, failed, with the reason
    const t = await dtmQuery(gid);
    expect(t.transaction?.status).toBe('failed');
    expect(t.transaction?.rollback_reason).toMatch(/streaming method/);
  });

  test('a step without newBranch(), and two actions in one branch', async () => {
    const r = new WorkflowRegistry(DTM_GRPC, '127.0.0.1:1');
    r.register('no-branch', async (wf) => {
      await wf.do(async () => undefined);
    });
    r.register('two-actions', async (wf) => {
      wf.newBranch();
      await wf.do(async () => undefined);
      await wf.do(async () => undefined);
    });
    await expect(r.execute('no-branch', localGid(), Buffer.alloc(0))).rejects.toThrow(
      /call newBranch\(\) before each step/,
    );
    const gid = localGid();
    await expect(r.execute('two-actions', gid, Buffer.alloc(0))).rejects.toThrow(/one action per branch/);
    expect(await dtmStatus(gid)).toBe('failed');
  });

  test('resuming a workflow whose stored data no longer decodes: WorkflowDataError, INVALID_ARGUMENT to dtm', async () => {
    const gid = localGid();
    // what dtm would send back: bytes that are not an AdjustInfo (field 1 as a truncated length-delimited value)
    const bad = Buffer.from([0x0a, 0x05, 0x01]);
    const err = await registry.execute('transfer', gid, bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowDataError);
    expect((err as Error).message).toMatch(/its data \(3 bytes\) no longer decodes as the registered type/);
    expect(await dtmStatus(gid)).toBeUndefined();
    expect(toGrpcStatus(err).details).toContain('no longer decodes');
    // through the callback service, as dtm calls it
    const cb = await invokeUnary(
      registry.callbackUrl.replace('/workflow.Workflow/Execute', ''),
      WorkflowService.execute,
      { Data: bad },
      { metadata: { 'dtm-gid': gid, 'dtm-op': 'transfer', 'dtm-trans_type': 'workflow', 'dtm-branch_id': '00' } },
    ).catch((e: unknown) => e);
    expect((cb as { code: number }).code).toBe(3); // INVALID_ARGUMENT
    expect((cb as Error).message).toContain('no longer decodes');
  });

  test('the callback service without dtm metadata', async () => {
    const cb = await invokeUnary(
      registry.callbackUrl.replace('/workflow.Workflow/Execute', ''),
      WorkflowService.execute,
      { Data: Buffer.alloc(0) },
    ).catch((e: unknown) => e);
    expect((cb as { code: number }).code).toBe(3);
    expect((cb as Error).message).toContain('not a dtm call');
  });
});
