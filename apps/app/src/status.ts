/**
 * Asks dtm's HTTP API for a transaction's status until it is final (`succeed` or `failed`), within `ms`.
 * Returns undefined when the API cannot be reached (dtm found only through etcd may not expose it here).
 */
export async function queryFinalStatus(dtmHttp: string, gid: string, ms = 15_000): Promise<string | undefined> {
  const end = Date.now() + ms;
  let last: string | undefined;
  while (Date.now() < end) {
    let res: Response;
    try {
      res = await fetch(`${dtmHttp}/api/dtmsvr/query?gid=${encodeURIComponent(gid)}`, {
        signal: AbortSignal.timeout(3000),
      });
    } catch {
      return undefined;
    }
    const body = (await res.json()) as { transaction?: { status?: string } | null };
    last = body.transaction?.status;
    if (last === 'succeed' || last === 'failed') return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  return last;
}
