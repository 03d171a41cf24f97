import type { KubeTarget } from './target.ts';

/** The fields of a discovery.k8s.io/v1 EndpointSlice the resolver reads (watch events carry plain JSON). */
export interface SliceLike {
  metadata?: { name?: string | undefined } | undefined;
  addressType?: string | undefined;
  endpoints?:
    | Array<{
        addresses?: string[] | undefined;
        conditions?: { ready?: boolean | undefined; terminating?: boolean | undefined } | undefined;
      }>
    | undefined;
  ports?: Array<{ name?: string | undefined; port?: number | undefined; protocol?: string | undefined }> | undefined;
}

export interface PodAddress {
  host: string;
  port: number;
}

/** The port of `slice` the target means, or undefined when the slice has no such port. */
function portOf(slice: SliceLike, want: KubeTarget['port']): number | undefined {
  // go-zero puts the target's number on every pod address, whatever the slice lists (it dials pod IPs).
  if (typeof want === 'number') return want;
  const tcp = (slice.ports ?? []).filter((p) => (p.protocol ?? 'TCP') === 'TCP' && typeof p.port === 'number');
  const p = want === undefined ? tcp[0] : tcp.find((q) => q.name === want);
  return p?.port;
}

/**
 * The addresses to dial: every address of every *ready* endpoint (a nil `ready` counts as ready, as the API says;
 * the endpoint-slice controller sets it false for not-ready and terminating pods) at the target's port, sorted
 * and without duplicates (a pod can appear in two slices while the controller moves it). FQDN slices are skipped.
 */
export function readyAddresses(slices: readonly SliceLike[], want: KubeTarget['port']): PodAddress[] {
  const seen = new Map<string, PodAddress>();
  for (const slice of slices) {
    if (slice.addressType !== 'IPv4' && slice.addressType !== 'IPv6') continue;
    const port = portOf(slice, want);
    if (port === undefined) continue;
    for (const ep of slice.endpoints ?? []) {
      if (ep.conditions?.ready === false) continue;
      for (const host of ep.addresses ?? []) seen.set(`${host}|${port}`, { host, port });
    }
  }
  return [...seen.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
}

/** Why `slices` give no address: no slice at all, none with the port, or no ready pod. */
export function whyNoAddress(slices: readonly SliceLike[], t: KubeTarget): string {
  const where = `service "${t.service}" in namespace "${t.namespace}"`;
  if (slices.length === 0)
    return `no EndpointSlice labelled kubernetes.io/service-name=${t.service} in namespace "${t.namespace}": the service does not exist (check the name and namespace) or has no pods yet`;
  if (typeof t.port !== 'number' && slices.every((s) => portOf(s, t.port) === undefined)) {
    const names = [...new Set(slices.flatMap((s) => (s.ports ?? []).map((p) => p.name || String(p.port))))];
    return `${where} has no ${t.port === undefined ? 'TCP' : `"${t.port}"`} port (its ports: ${names.join(', ') || 'none'})`;
  }
  return `${where} has no ready pod (all not ready or terminating)`;
}
