import { type ChannelOptions, type experimental, status } from '@grpc/grpc-js';
import { type PodAddress, whyNoAddress } from '../../kube/endpoints.ts';
import { formatKubeTarget, parseKubeTarget } from '../../kube/target.ts';
import { EndpointSliceWatcher } from '../../kube/watcher.ts';
import { fail, serviceConfig } from '../resolver-common.ts';

type GrpcUri = experimental.GrpcUri;
type ResolverListener = experimental.ResolverListener;

/**
 * `k8s://namespace/service:port`: the service's ready pods, from its EndpointSlices (go-zero's kube resolver),
 * each pod an endpoint of its own so that p2c balances over pods. While the API server is away the last
 * addresses stay in use (as the etcd resolver keeps its values); calls fail with the reason only when there are
 * none: no such service or no ready pod, no configuration, a forbidden list.
 */
export class KubeResolver implements experimental.Resolver {
  readonly #uri: GrpcUri;
  readonly #listener: ResolverListener;
  readonly #options: ChannelOptions;
  #watcher: EndpointSliceWatcher | undefined;
  #last: PodAddress[] = [];
  #lastError: string | undefined = 'not resolved yet';

  constructor(target: GrpcUri, listener: ResolverListener, options: ChannelOptions) {
    this.#uri = target;
    this.#listener = listener;
    this.#options = options;
  }

  /** The :authority of calls: `service.namespace[:port]` (a port *name* is no port to grpc-js's URL parsing). */
  static getDefaultAuthority(target: GrpcUri): string {
    const t = parseKubeTarget(target.authority ?? '', target.path);
    if (typeof t === 'string') return target.path.replace(/^\/+|\/+$/g, '').replace(/:.*$/, '');
    return `${t.service}.${t.namespace}${typeof t.port === 'number' ? `:${t.port}` : ''}`;
  }

  updateResolution(): void {
    if (this.#watcher) {
      // The watch pushes every change; re-report only an earlier failure (as the etcd resolver does).
      if (this.#lastError !== undefined && this.#last.length === 0)
        fail(this.#listener, status.UNAVAILABLE, this.#lastError);
      return;
    }
    const t = parseKubeTarget(this.#uri.authority ?? '', this.#uri.path);
    if (typeof t === 'string') {
      fail(this.#listener, status.INVALID_ARGUMENT, t);
      return;
    }
    this.#watcher = new EndpointSliceWatcher(t, {
      update: (addresses, slices) => {
        this.#last = addresses;
        if (addresses.length === 0) {
          this.#lastError = `${formatKubeTarget(t)}: ${whyNoAddress(slices, t)}`;
          fail(this.#listener, status.UNAVAILABLE, this.#lastError);
          return;
        }
        this.#lastError = undefined;
        const endpoints = addresses.map((a) => ({ addresses: [{ host: a.host, port: a.port }] }));
        this.#listener({ ok: true, value: endpoints }, {}, serviceConfig(this.#options), '');
      },
      error: (err) => {
        // Keep serving the last ready pods through an API-server outage; fail only when there are none.
        if (this.#last.length > 0) return;
        this.#lastError = `${formatKubeTarget(t)}: ${err.message}`;
        fail(this.#listener, status.UNAVAILABLE, this.#lastError);
      },
    });
    this.#watcher.start();
  }

  destroy(): void {
    this.#watcher?.close();
    this.#watcher = undefined;
    this.#last = [];
    this.#lastError = 'not resolved yet';
  }
}
