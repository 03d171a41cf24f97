// dtm's HTTP admin API beside the testkit's `queryTrans`: no test runner needed (the integration stack's defaults are
// in ./dtm.ts).

/** Ends a transaction in dtm (`forceStop`: status `failed`, no more retries), as an operator would. */
export async function forceStop(dtmHttp: string, gid: string): Promise<void> {
  const res = await fetch(`${dtmHttp}/api/dtmsvr/forceStop`, {
    method: 'POST',
    body: JSON.stringify({ gid }),
    signal: AbortSignal.timeout(5000),
  });
  if (!res.ok) throw new Error(`dtm forceStop ${gid}: HTTP ${res.status} ${await res.text()}`);
}
