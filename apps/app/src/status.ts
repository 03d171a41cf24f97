/**
 * Asks dtm's HTTP API for a transaction's status until it is final (`succeed` or `failed`), within `ms`; returns
 * the last status seen. `dtmHttp` may list several instances, comma-separated (a dtm cluster shares one store, so
 * any instance answers for every gid): one that does not answer is skipped for the next. Throws, naming the fix, when
 * none answers or one is not dtm's: the printed status is what dtm stored, never a guess.
 */
export async function queryFinalStatus(dtmHttp: string, gid: string, ms = 15_000): Promise<string> {
  const urls = dtmHttp
    .split(',')
    .map((u) => u.trim().replace(/\/+$/, ''))
    .filter((u) => u !== '');
  const end = Date.now() + ms;
  let last = 'unknown';
  const unusable = (at: string, why: string, cause?: unknown): Error =>
    new Error(
      `dtm's HTTP API at ${at} ${why}, so the status of ${gid} cannot be read; pass --dtm-http <url>[,<url>…] ` +
        "(or DTM_HTTP) with dtm's HttpPort, e.g. http://localhost:36789",
      { cause },
    );
  if (urls.length === 0) throw unusable(JSON.stringify(dtmHttp), 'is not a URL');
  let at = 0; // the instance that answered last: asked first next time
  while (Date.now() < end) {
    let res: Response | undefined;
    const refused: string[] = [];
    for (let i = 0; i < urls.length && res === undefined; i++) {
      const url = urls[(at + i) % urls.length] as string;
      try {
        res = await fetch(`${url}/api/dtmsvr/query?gid=${encodeURIComponent(gid)}`, {
          signal: AbortSignal.timeout(3000),
        });
        at = (at + i) % urls.length;
      } catch (err) {
        const e = err as Error & { cause?: { code?: string } };
        refused.push(e.cause?.code ?? e.message);
        if (refused.length === urls.length)
          throw unusable(urls.join(', '), `does not answer (${refused.join('; ')})`, err);
      }
    }
    const answered = urls[at] as string;
    let body: { transaction?: { status?: string } | null };
    try {
      if (!res?.ok) throw new Error(`HTTP ${res?.status}`);
      body = (await res.json()) as { transaction?: { status?: string } | null };
    } catch (err) {
      throw unusable(answered, `answers, but not as dtm's query API (${(err as Error).message})`, err);
    }
    last = body.transaction?.status ?? 'unknown';
    if (last === 'succeed' || last === 'failed') return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  return last;
}
