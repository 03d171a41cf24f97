import { withTimeout } from '../internal/timeout.ts';
import { clientNode, describeKubeError, KubeError, loadKubeConfig } from './config.ts';
import { readyAddresses, type SliceLike, whyNoAddress } from './endpoints.ts';
import type { KubeTarget } from './target.ts';

/** One list of a service's EndpointSlices: its ready `ip:port`s (and why there are none), or the failure. */
export async function resolveKubeTarget(
  t: KubeTarget,
  timeoutMs: number,
): Promise<{ addresses: string[]; why: string } | { error: KubeError }> {
  try {
    const k8s = await clientNode();
    const cfg = loadKubeConfig(k8s);
    const api = cfg.kc.makeApiClient(k8s.DiscoveryV1Api);
    const what = `list endpointslices in namespace "${t.namespace}"`;
    const list = await withTimeout(
      api.listNamespacedEndpointSlice({
        namespace: t.namespace,
        labelSelector: `kubernetes.io/service-name=${t.service}`,
      }),
      timeoutMs,
      `${what} at ${cfg.server}`,
    ).catch((err: unknown) => {
      throw describeKubeError(err, what, cfg.server);
    });
    const slices = list.items as SliceLike[];
    const addresses = readyAddresses(slices, t.port).map((a) =>
      a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`,
    );
    return { addresses, why: addresses.length ? '' : whyNoAddress(slices, t) };
  } catch (err) {
    return { error: err instanceof KubeError ? err : new KubeError((err as Error).message, undefined, { cause: err }) };
  }
}
