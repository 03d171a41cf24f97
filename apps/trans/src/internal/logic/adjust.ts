import { DtmFailure } from '@dtm-gozero/dtmgrpc';
import { logPrintf } from '@dtm-gozero/gozero';
import type { AdjustInfo } from '@dtm-gozero/proto/trans';
import type { Metadata } from '@grpc/grpc-js';

/**
 * Metadata key naming the methods that must answer FAILURE (`npm run app -- saga --fail` sends
 * `trans-fail: TransIn` as a dtm branch header, so dtm passes it on every branch call of that transaction).
 */
export const FAIL_HEADER = 'trans-fail';

/** Logs one line in the Go example's style, or refuses with FAILURE when the caller asked this method to fail. */
export function adjust(md: Metadata, method: string, line: string, in_: AdjustInfo): void {
  const fail = md
    .get(FAIL_HEADER)
    .flatMap((v) => v.toString().split(','))
    .map((s) => s.trim());
  if (fail.includes(method)) {
    logPrintf('%s: FAILURE (asked for by the caller)', format(line, in_));
    throw new DtmFailure(`${method}: FAILURE asked for by the caller`);
  }
  logPrintf('%s', format(line, in_));
}

const format = (line: string, in_: AdjustInfo): string =>
  line.replace('{amount}', String(in_.Amount)).replace('{user}', String(in_.UserID));
