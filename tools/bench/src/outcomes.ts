// After the levels: what dtm made of the few transactions whose Submit reported an error to the load generator
// (a timeout, an overloaded branch server) — they may still have succeeded — asked of dtm's HTTP API.
import { queryTrans } from '@dtm-gozero/devkit';
import type { ErrorOutcome } from './report.ts';

/** Polls dtm's HTTP API until each transaction's status is final (succeed / failed) or `ms` has passed. */
export async function outcomes(
  dtmHttp: string,
  txs: { combo: string; concurrency: number; gid: string }[],
  ms: number,
): Promise<ErrorOutcome[]> {
  const end = Date.now() + ms;
  const status = new Map<string, string>();
  for (;;) {
    for (const t of txs) {
      if (status.get(t.gid) === 'succeed' || status.get(t.gid) === 'failed') continue;
      try {
        status.set(t.gid, (await queryTrans(dtmHttp, t.gid)).transaction?.status ?? 'not found');
      } catch (err) {
        status.set(t.gid, `query failed: ${(err as Error).message}`);
      }
    }
    const open = txs.filter((t) => !['succeed', 'failed'].includes(status.get(t.gid) ?? ''));
    if (open.length === 0 || Date.now() > end) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  return txs.map((t) => ({ ...t, status: status.get(t.gid) ?? 'unknown' }));
}
