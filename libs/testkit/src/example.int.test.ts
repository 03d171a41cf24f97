import { genGid } from '@dtm-gozero/dtmgrpc';
import { type DtmStack, startDtmStack } from '@dtm-gozero/testkit';
import { afterAll, beforeAll, expect, test } from 'vitest';

let stack: DtmStack;
beforeAll(async () => {
  stack = await startDtmStack({ store: 'boltdb' }); // an etcd + dtm of this suite's own, on free ports
}, 120_000);
afterAll(() => stack?.stop());

test('dtm answers through etcd, as a go-zero client finds it', async () => {
  expect(await genGid(stack.dtmTarget)).toMatch(/^\w+$/);
});
