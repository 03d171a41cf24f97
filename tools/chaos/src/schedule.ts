import type { Options } from './options.ts';

export type Chaos = 'kill' | 'dtm' | 'etcd';

/**
 * When each fault fires, in ms after the first transfer, and the span the transfers are paced over. The faults fire
 * by time, not by transfer count: transfers that fail fast under a fault (a TCC try while trans is down) would
 * otherwise all be through before the next fault, and the faults would hit an idle system. The transfers are paced
 * to last at least `spanMs` (transfer i starts no earlier than i/n of it), and every fault, the etcd outage's whole
 * length included, lies within the span: so every fault happens while transfers run.
 */
export function chaosPlan(o: Pick<Options, 'kills' | 'dtmRestarts' | 'etcdOutage'>): {
  spanMs: number;
  events: { atMs: number; what: Chaos }[];
} {
  const spanMs = Math.max(20_000, 1.5 * o.etcdOutage * 1000 + 5000, o.kills * 3000, o.dtmRestarts * 5000);
  const spread = (n: number, offsetMs: number, what: Chaos): { atMs: number; what: Chaos }[] =>
    Array.from({ length: n }, (_, i) => ({ atMs: Math.floor(((i + 1) * spanMs) / (n + 1)) + offsetMs, what }));
  const events = [
    ...spread(o.kills, 0, 'kill'),
    ...spread(o.dtmRestarts, 500, 'dtm'),
    ...(o.etcdOutage > 0 ? [{ atMs: Math.floor(spanMs / 3), what: 'etcd' as const }] : []),
  ].sort((a, b) => a.atMs - b.atMs);
  return { spanMs, events };
}
