import { Server } from '@grpc/grpc-js';
import { describe, expect, test } from 'vitest';
import { DtmInputError } from '../errors.ts';
import { MsgGrpc } from '../msg.ts';
import { checkTopic } from '../topics.ts';
import { WorkflowDataError, WorkflowRegistry } from './registry.ts';

// Bad input refused before anything is sent (the flows against the real dtm are in workflow.int.test.ts and
// topics.int.test.ts).
describe('WorkflowRegistry input', () => {
  test('an empty dtm or callback host', () => {
    expect(() => new WorkflowRegistry('', '127.0.0.1:1')).toThrow(/dtm address is empty/);
    expect(() => new WorkflowRegistry('127.0.0.1:1', '')).toThrow(/callback host is empty; pass the target dtm calls/);
  });

  test('the callback URL is the host plus workflow.Workflow/Execute, as dtm calls it', () => {
    expect(new WorkflowRegistry('d:1', 'etcd://127.0.0.1:2379/app/').callbackUrl).toBe(
      'etcd://127.0.0.1:2379/app/workflow.Workflow/Execute',
    );
  });

  test('register: empty name, a non-function, a name twice', () => {
    const r = new WorkflowRegistry('d:1', 'h:1');
    expect(() => r.register('', async () => undefined)).toThrow(DtmInputError);
    expect(() => r.register('x', 'nope' as never)).toThrow(/the handler is not a function/);
    r.register('x', async () => undefined);
    expect(() => r.register('x', async () => undefined)).toThrow(/workflow 'x' is registered already/);
    expect(r.names).toEqual(['x']);
  });

  test('execute: an unregistered name, data that is not bytes, data that does not encode', async () => {
    const r = new WorkflowRegistry('d:1', 'h:1');
    r.register('bytes', async () => undefined);
    r.register('typed', async () => undefined, undefined, {
      encode: () => {
        throw new Error('no such field');
      },
      decode: () => ({}),
    });
    await expect(r.execute('nope', 'g', Buffer.alloc(0))).rejects.toThrow(
      /workflow 'nope' is not registered \(registered: bytes, typed\)/,
    );
    await expect(r.execute('bytes', 'g', { a: 1 })).rejects.toThrow(/data must be bytes/);
    await expect(r.execute('typed', 'g', { a: 1 })).rejects.toThrow(/data does not encode: no such field/);
  });

  test('execute: data the registered type writes but cannot read back is refused before dtm sees it', async () => {
    // dtm 'd:1' cannot be reached: an error naming the data proves nothing was sent (the app's transfer data once
    // wrote a negative amount that its decoder refused, and the message blamed a resume that never happened)
    const r = new WorkflowRegistry('d:1', 'h:1');
    r.register('lossy', async () => undefined, undefined, {
      encode: () => ({ finish: () => Buffer.from('-1') }),
      decode: (b: Uint8Array) => {
        if (Buffer.from(b).toString().startsWith('-')) throw new Error('not a whole number');
        return {};
      },
    });
    const err = await r.execute('lossy', 'g', { amount: -1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowDataError);
    expect((err as Error).message).toMatch(
      /workflow 'lossy' g: its data, as the registered type encodes it, does not decode back: not a whole number; nothing was sent to dtm/,
    );
  });

  test('addTo adds the workflow.Workflow service to a grpc-js server', () => {
    const server = new Server();
    new WorkflowRegistry('d:1', 'h:1').addTo(server);
    // grpc-js refuses a second registration of the same service: it is there
    expect(() => new WorkflowRegistry('d:1', 'h:1').addTo(server)).toThrow(/workflow\.Workflow/);
  });
});

describe('topic input', () => {
  test('names', () => {
    expect(checkTopic('orders')).toBe('orders');
    expect(() => checkTopic('')).toThrow(/topic is empty/);
    expect(() => checkTopic('topic://orders')).toThrow(/without 'topic:\/\/'/);
    expect(() => checkTopic('two words')).toThrow(/white space/);
  });

  test('addTopic puts a topic:// step in the message', () => {
    const m = new MsgGrpc('d:1', 'g').addTopic('orders', Buffer.from([8, 1]));
    expect(m.branches.map((b) => b.url)).toEqual(['topic://orders']);
  });
});
