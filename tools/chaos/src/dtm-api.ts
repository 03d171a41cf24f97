// The few dtm HTTP admin calls the chaos suite makes, each asked of every dtm instance until one answers.
import { queryTrans } from '@dtm-gozero/devkit';

/** One resetCronTime call moves at most this many transactions, and one round makes at most this many calls. */
const RESET_LIMIT = 500;
const RESET_CALLS_MAX = 40;

export type Status = 'succeed' | 'failed' | 'prepared' | 'submitted' | 'aborting' | 'none';

/** dtm's stored status of a gid (`none`: dtm never stored it), asking each instance until one answers. */
export async function dtmStatus(https: string[], gid: string): Promise<Status | undefined> {
  for (const h of https) {
    try {
      return ((await queryTrans(h, gid, 3000)).transaction?.status as Status | undefined) ?? 'none';
    } catch {
      // that instance is down or slow: ask the other
    }
  }
  return undefined;
}

export async function statuses(https: string[], gids: string[]): Promise<Map<string, Status | undefined>> {
  const out = new Map<string, Status | undefined>();
  let i = 0;
  const worker = async (): Promise<void> => {
    while (i < gids.length) {
      const g = gids[i++] as string;
      out.set(g, await dtmStatus(https, g));
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  return out;
}

/**
 * The gids whose dtm status is not final yet (succeed/failed never change again), and how many of them dtm holds as
 * unfinished: the others it never stored (a transfer that did not reach it) or no dtm answered for; they stay in
 * the set, as a late submit could still store them.
 */
export async function notFinal(https: string[], gids: string[]): Promise<{ gids: string[]; unfinished: number }> {
  const st = await statuses(https, gids);
  const open = [...st].filter(([, s]) => s !== 'succeed' && s !== 'failed');
  return { gids: open.map(([g]) => g), unfinished: open.filter(([, s]) => s !== 'none').length };
}

/** dtm's statuses of a transaction that is not final yet, in the order a transaction can move through them. */
const OPEN_STATUSES = ['prepared', 'submitted', 'aborting'] as const;
/** Rows per page of dtm's /api/dtmsvr/all. */
const SCAN_PAGE = 1000;

/**
 * How many of this run's transactions dtm holds unfinished, from dtm's own list by status (/api/dtmsvr/all, paged):
 * a few requests however many transactions there are, where asking gid by gid costs one request each. Undefined when
 * no dtm instance answered. A transaction that changes status mid-scan can be missed, so a 0 here is confirmed gid by
 * gid before the settle ends.
 */
export async function openInDtm(https: string[], gidPrefix: string, transfers: number): Promise<number | undefined> {
  let open = 0;
  for (const status of OPEN_STATUSES) {
    let position = '';
    for (let page = 0; page <= Math.ceil(transfers / SCAN_PAGE); page++) {
      const r = (await firstAnswer(
        https,
        `/api/dtmsvr/all?status=${status}&limit=${SCAN_PAGE}&position=${encodeURIComponent(position)}`,
      )) as { transactions?: { gid?: string }[] | null; next_position?: string } | undefined;
      if (r === undefined) return undefined;
      open += (r.transactions ?? []).filter((t) => t.gid?.startsWith(gidPrefix)).length;
      position = r.next_position ?? '';
      if (position === '') break;
    }
  }
  return open;
}

/**
 * dtm's own admin step after business downtime (GET /api/dtmsvr/resetCronTime, since dtm v1.14): every unfinished
 * transaction whose next retry is more than `aheadS` seconds away becomes due now. Each failed branch call doubles a
 * transaction's retry interval, so after a few trans kills many wait minutes although trans is long back; an operator
 * calls this once the outage is over. One call moves at most `limit` rows and says whether more remain; this loops
 * (bounded) until none do. Returns how many it moved, or undefined when no dtm instance answered.
 */
export async function resetCronTime(https: string[], aheadS: number): Promise<number | undefined> {
  let moved = 0;
  for (let call = 0; call < RESET_CALLS_MAX; call++) {
    const r = await firstAnswer(https, `/api/dtmsvr/resetCronTime?timeout=${aheadS}&limit=${RESET_LIMIT}`);
    if (r === undefined) return call === 0 ? undefined : moved;
    const { succeed_count: n, has_remaining: more } = r as { succeed_count?: number; has_remaining?: boolean };
    if (typeof n !== 'number') throw new Error(`dtm's resetCronTime answered ${JSON.stringify(r)}`);
    moved += n;
    if (!more) break;
  }
  return moved;
}

/** The JSON answer of the first dtm instance that gives one (each asked within `ms`), or undefined. */
export async function firstAnswer(https: string[], path: string, ms = 10_000): Promise<unknown> {
  for (const h of https) {
    try {
      const res = await fetch(`${h}${path}`, { signal: AbortSignal.timeout(ms) });
      if (res.ok) return await res.json();
    } catch {
      // that instance is down or slow: ask the other
    }
  }
  return undefined;
}
