import type * as K8s from '@kubernetes/client-node';
import { clientNode, describeKubeError, KubeError, loadKubeConfig } from './config.ts';
import { type PodAddress, readyAddresses, type SliceLike } from './endpoints.ts';
import { formatKubeTarget, type KubeTarget } from './target.ts';

export interface SliceWatchEvents {
  /** The ready addresses changed (or were listed for the first time); `slices` are all the service's slices. */
  update(addresses: PodAddress[], slices: readonly SliceLike[]): void;
  /** Listing or watching failed; the watcher retries by itself (a fresh list) until closed. */
  error(err: KubeError): void;
}

export interface SliceWatchOptions {
  /** First retry delay after a failure, doubled up to `maxRetryMs` (defaults 1 s and 5 s). */
  retryMs?: number | undefined;
  maxRetryMs?: number | undefined;
  /** Where the configuration is read from (default process.env: KUBERNETES_SERVICE_*, KUBECONFIG, HOME). */
  env?: NodeJS.ProcessEnv | undefined;
}

/**
 * Follows a service's EndpointSlices (label kubernetes.io/service-name) with client-node's ListWatch: a list,
 * then a watch from its resourceVersion; the ListWatch itself relists on 410 Gone (an expired resourceVersion)
 * and resumes after its client-side timeout. Any other failure (the API server down or restarting, 401, 403)
 * ends that ListWatch: after a back-off a fresh one lists everything again, so nothing missed while the server
 * was away is kept. Reports go out only when the ready addresses change.
 */
export class EndpointSliceWatcher {
  /** How many full lists were made (the first, after a 410, after each failure): for tests and diagnostics. */
  lists = 0;
  readonly #t: KubeTarget;
  readonly #events: SliceWatchEvents;
  readonly #retryMs: number;
  readonly #maxRetryMs: number;
  readonly #env: NodeJS.ProcessEnv | undefined;
  #delay: number;
  #lw: K8s.ListWatch<K8s.V1EndpointSlice> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #emitScheduled = false;
  #last: string | undefined;
  #closed = false;

  constructor(target: KubeTarget, events: SliceWatchEvents, options: SliceWatchOptions = {}) {
    this.#t = target;
    this.#events = events;
    this.#retryMs = options.retryMs ?? 1000;
    this.#maxRetryMs = options.maxRetryMs ?? 5000;
    this.#env = options.env;
    this.#delay = this.#retryMs;
  }

  start(): void {
    void this.#run();
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    const lw = this.#lw;
    this.#lw = undefined;
    void lw?.stop();
  }

  async #run(): Promise<void> {
    if (this.#closed) return;
    const what = `list and watch endpointslices in namespace "${this.#t.namespace}" (for ${formatKubeTarget(this.#t)})`;
    let k8s: Awaited<ReturnType<typeof clientNode>>;
    let cfg: ReturnType<typeof loadKubeConfig>;
    try {
      k8s = await clientNode();
      cfg = loadKubeConfig(k8s, this.#env);
    } catch (err) {
      this.#fail(err instanceof KubeError ? err : new KubeError((err as Error).message, undefined, { cause: err }));
      return;
    }
    if (this.#closed) return;
    const api = cfg.kc.makeApiClient(k8s.DiscoveryV1Api);
    const { namespace, service } = this.#t;
    const selector = `kubernetes.io/service-name=${service}`;
    // After every full list (the first, after a 410), report once even when nothing changed or nothing is there:
    // the ListWatch applies the items synchronously once this resolves, so a report scheduled now sees them all.
    // (Not after `start()`: that waits for the watch's response headers, which a server may hold back.)
    const list = async (): Promise<K8s.V1EndpointSliceList> => {
      const l = await api.listNamespacedEndpointSlice({ namespace, labelSelector: selector });
      this.lists++;
      this.#delay = this.#retryMs;
      this.#scheduleEmit(lw, true);
      return l;
    };
    const lw = new k8s.ListWatch<K8s.V1EndpointSlice>(
      `/apis/discovery.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/endpointslices`,
      new k8s.Watch(cfg.kc),
      list,
      false,
      selector,
    );
    const changed = (): void => this.#scheduleEmit(lw);
    lw.on('add', changed);
    lw.on('update', changed);
    lw.on('delete', changed);
    const broken = (err: unknown): void => {
      if (this.#lw !== lw) return;
      this.#lw = undefined;
      void lw.stop();
      this.#fail(describeKubeError(err, what, cfg.server));
    };
    lw.on('error', broken);
    this.#lw = lw;
    // Failures inside list and watch arrive as 'error' events; the catch is for anything thrown before them.
    await lw.start().catch(broken);
  }

  /** One report per burst: a list fires a callback per slice, and only the whole picture is worth sending. */
  #scheduleEmit(lw: K8s.ListWatch<K8s.V1EndpointSlice>, force = false): void {
    if (force) this.#last = undefined;
    if (this.#emitScheduled) return;
    this.#emitScheduled = true;
    setImmediate(() => {
      this.#emitScheduled = false;
      if (this.#lw !== lw || this.#closed) return;
      const slices = lw.list(this.#t.namespace) as readonly SliceLike[];
      const addresses = readyAddresses(slices, this.#t.port);
      const key = JSON.stringify(addresses);
      if (key === this.#last) return;
      this.#last = key;
      this.#events.update(addresses, slices);
    });
  }

  #fail(err: KubeError): void {
    if (this.#closed) return;
    this.#last = undefined;
    this.#events.error(err);
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#run(), this.#delay);
    this.#timer.unref();
    this.#delay = Math.min(this.#delay * 2, this.#maxRetryMs);
  }
}
