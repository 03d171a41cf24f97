import { eventually } from '@dtm-gozero/devkit';
import { type BusiServer, startBusiServer } from '@dtm-gozero/devkit/busi';
import { DTM_ETCD, DTM_GRPC, dtmStatus, finalTrans } from '@dtm-gozero/devkit/dtm';
import { AdjustInfo } from '@dtm-gozero/proto/trans';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { closeConnections } from './conn.ts';
import { DtmError, DtmInputError, DtmTopicError } from './errors.ts';
import { MsgGrpc } from './msg.ts';
import { deleteTopic, subscribe, unsubscribe } from './topics.ts';
import { localGid } from './trans-base.ts';

// Topics against the real dtm: two in-process services subscribe to one topic, and a message to the topic reaches
// both. dtm reloads its topics every ConfigUpdateInterval (3 s), so the first submit after subscribing is retried
// (it fails with DtmTopicError, storing nothing) until dtm knows the topic.
let a: BusiServer;
let b: BusiServer;
const req = { Amount: 30n, UserID: 7n };

beforeAll(async () => {
  a = await startBusiServer(['Notify']);
  b = await startBusiServer(['Notify'], 'other.Busi');
});
afterAll(async () => {
  await a?.stop();
  await b?.stop();
  closeConnections();
});

describe('message topics', () => {
  test('a message to a topic with two subscribers calls both; unsubscribe and deleteTopic', async () => {
    const topic = `wf-test-${localGid()}`;
    await subscribe(DTM_ETCD, topic, a.url('Notify'), 'first');
    await subscribe(DTM_GRPC, topic, b.url('Notify'));
    // the same URL twice: dtm refuses
    await expect(subscribe(DTM_GRPC, topic, b.url('Notify'))).rejects.toThrow(/this url exists/);
    const gid = await eventually(
      async () => {
        const g = localGid();
        try {
          await new MsgGrpc(DTM_GRPC, g).addTopic(topic, AdjustInfo, req).submit();
          return g;
        } catch (err) {
          if (err instanceof DtmTopicError) {
            expect(await dtmStatus(g)).toBeUndefined(); // nothing stored
            return undefined;
          }
          throw err;
        }
      },
      20_000,
      `dtm knowing topic ${topic}`,
    );
    const t = await finalTrans(gid);
    expect(t.transaction?.status).toBe('succeed');
    expect(t.branches.map((x) => `${x.branch_id} ${x.url}`).sort()).toEqual([
      `01-01 ${a.url('Notify')}`,
      `01-02 ${b.url('Notify')}`,
    ]);
    expect(a.log(gid)).toEqual(['Notify:action']);
    expect(b.log(gid)).toEqual(['Notify:action']);
    expect(a.calls.find((c) => c.gid === gid)).toMatchObject({ amount: 30, user: 7 });

    await unsubscribe(DTM_GRPC, topic, a.url('Notify'));
    const err = await unsubscribe(DTM_GRPC, topic, a.url('Notify')).catch((e: unknown) => e);
    // dtm v1.19.0 answers this one with UNKNOWN and no text, so it stays a plain DtmError
    expect(err).toBeInstanceOf(DtmError);
    expect((err as DtmError).code).toBe(2);
    await deleteTopic(DTM_GRPC, topic);
    await expect(unsubscribe(DTM_GRPC, topic, b.url('Notify'))).rejects.toBeInstanceOf(DtmTopicError);
  }, 60_000);

  test('a topic that does not exist: DtmTopicError, nothing stored', async () => {
    const gid = localGid();
    const msg = new MsgGrpc(DTM_GRPC, gid).addTopic(`never-${localGid()}`, Buffer.from([8, 1]));
    const err = await msg.submit().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DtmTopicError);
    expect((err as Error).message).toMatch(/topic not found/);
    expect(await dtmStatus(gid)).toBeUndefined();
    await expect(unsubscribe(DTM_GRPC, `never-${localGid()}`, a.url('Notify'))).rejects.toThrow(
      /no such a topic.*subscribe a URL to the topic first/,
    );
  });

  test('bad topic input is refused before anything is sent', async () => {
    const msg = new MsgGrpc(DTM_GRPC, localGid());
    expect(() => msg.addTopic('', Buffer.alloc(0))).toThrow(DtmInputError);
    expect(() => msg.addTopic('topic://x', Buffer.alloc(0))).toThrow(/without 'topic:\/\/'/);
    expect(() =>
      msg.addTopic(
        'x',
        {
          encode: () => ({
            finish: () => {
              throw new Error('boom');
            },
          }),
        },
        {},
      ),
    ).toThrow(/does not encode: boom/);
    await expect(subscribe(DTM_GRPC, 't', 'not a url')).rejects.toBeInstanceOf(DtmInputError);
    await expect(unsubscribe(DTM_GRPC, 't', '')).rejects.toBeInstanceOf(DtmInputError);
  });
});
