import { freePort } from '@dtm-gozero/devkit';
import pg from 'pg';
import { describe, expect, test } from 'vitest';
import { BranchBarrier } from './barrier.ts';

// callPostgres runs the barrier insert, the business SQL and COMMIT on the one client the caller began the
// transaction on. A pool would spread them over different connections (a failed business step would leave the
// barrier row committed, and the retry would be skipped as a duplicate), so a pool is refused: by the type, and at
// run time before any SQL is sent.
describe('callPostgres refuses a pool', () => {
  test('at run time, before touching the database', async () => {
    const pool = new pg.Pool({
      host: '127.0.0.1',
      port: await freePort(), // nothing listens there
      connectionTimeoutMillis: 500,
    });
    const bb = new BranchBarrier('saga', 'g-pool', '01', 'action');
    try {
      // @ts-expect-error a pg Pool is not the client of one transaction
      await expect(bb.callPostgres(pool, async () => undefined)).rejects.toThrow(
        /callPostgres needs the client the transaction was begun on \(await pool\.connect\(\), then BEGIN\), not a pool; or pass the pool to callWithPostgres/,
      );
    } finally {
      await pool.end();
    }
  });
});
