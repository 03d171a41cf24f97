/**
 * Asks dtm's HTTP API for a transaction's status until it is final (`succeed` or `failed`), within `ms`; returns
 * the last status seen. Throws, naming the fix, when the API does not answer or is not dtm's: the printed status is
 * what dtm stored, never a guess.
 */
export async function queryFinalStatus(dtmHttp: string, gid: string, ms = 15_000): Promise<string> {
  const end = Date.now() + ms;
  let last = 'unknown';
  const unusable = (why: string, cause?: unknown): Error =>
    new Error(
      `dtm's HTTP API at ${dtmHttp} ${why}, so the status of ${gid} cannot be read; pass --dtm-http <url> ` +
        "(or DTM_HTTP) with dtm's HttpPort, e.g. http://localhost:36789",
      { cause },
    );
  while (Date.now() < end) {
    let res: Response;
    try {
      res = await fetch(`${dtmHttp}/api/dtmsvr/query?gid=${encodeURIComponent(gid)}`, {
        signal: AbortSignal.timeout(3000),
      });
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      throw unusable(`does not answer (${e.cause?.code ?? e.message})`, err);
    }
    let body: { transaction?: { status?: string } | null };
    try {
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      body = (await res.json()) as { transaction?: { status?: string } | null };
    } catch (err) {
      throw unusable(`answers, but not as dtm's query API (${(err as Error).message})`, err);
    }
    last = body.transaction?.status ?? 'unknown';
    if (last === 'succeed' || last === 'failed') return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  return last;
}
