import { lookup } from 'node:dns/promises';
import { type ChannelOptions, experimental, Metadata, status } from '@grpc/grpc-js';
import type { Watcher } from 'etcd3';
import { describeEtcdError, ETCD_WAIT_MS, etcdClient } from '../discov/clients.ts';
import { splitHostPort } from '../internal/host-port.ts';
import { withTimeout } from '../internal/timeout.ts';

type Endpoint = experimental.Endpoint;
type GrpcUri = experimental.GrpcUri;
type ResolverListener = experimental.ResolverListener;

// Spread calls over every registered instance, as go-zero's clients do (p2c there; round_robin here).
const SERVICE_CONFIG = { loadBalancingConfig: [{ round_robin: {} }], methodConfig: [] };

/** Turns registered `host:port` values into grpc-js endpoints, resolving host names (e.g. dtm's `localhost`). */
async function toEndpoints(values: string[]): Promise<Endpoint[]> {
  const out: Endpoint[] = [];
  for (const v of values) {
    const hp = splitHostPort(v);
    if (!hp?.host) continue;
    const { host, port } = hp;
    try {
      const addrs = await lookup(host, { all: true });
      out.push({ addresses: addrs.map((a) => ({ host: a.address, port })) });
    } catch {
      // An unresolvable registration is skipped, as grpc-go would fail only that address.
    }
  }
  return out;
}

function fail(listener: ResolverListener, code: status, details: string): void {
  listener({ ok: false, error: { code, details, metadata: new Metadata() } }, {}, null, details);
}

/**
 * `etcd://h1,h2/key` and `discov://…`: reads every value under the prefix `key/` and watches it, so that
 * instances registering or leaving are applied live (go-zero v1.4's subscriber).
 */
class EtcdResolver implements experimental.Resolver {
  readonly #hosts: string[];
  readonly #key: string;
  readonly #listener: ResolverListener;
  readonly #values = new Map<string, string>();
  #watcher: Watcher | undefined;
  #starting = false;
  #destroyed = false;
  #lastFailed = false;
  /** The addresses last seen registered: when they all go, the service was there and stopped renewing its lease. */
  #lastSeen: string[] = [];

  constructor(target: GrpcUri, listener: ResolverListener, _options: ChannelOptions) {
    this.#hosts = (target.authority ?? '').split(',').filter((h) => h !== '');
    this.#key = target.path.replace(/^\/+|\/+$/g, '');
    this.#listener = listener;
  }

  static getDefaultAuthority(target: GrpcUri): string {
    return target.path.replace(/^\/+|\/+$/g, '');
  }

  updateResolution(): void {
    this.#destroyed = false;
    if (this.#watcher) {
      // The watch pushes every change; load balancers ask for re-resolution whenever a connection drops, and
      // answering each ask with the same list would spin. Only an earlier failure is worth reporting again.
      if (this.#lastFailed) void this.#report();
      return;
    }
    if (this.#starting) return;
    this.#starting = true;
    void this.#start().finally(() => {
      this.#starting = false;
    });
  }

  async #start(): Promise<void> {
    const where = `etcd://${this.#hosts.join(',')}/${this.#key}`;
    if (this.#hosts.length === 0 || this.#key === '') {
      fail(this.#listener, status.INVALID_ARGUMENT, `target ${where} is malformed; write etcd://host:port/key`);
      return;
    }
    const client = etcdClient(this.#hosts);
    const prefix = `${this.#key}/`;
    try {
      const res = await withTimeout(client.getAll().prefix(prefix).exec(), ETCD_WAIT_MS, 'etcd get');
      if (this.#destroyed) return;
      this.#values.clear();
      for (const kv of res.kvs) this.#values.set(kv.key.toString(), kv.value.toString());
      const watcher = await withTimeout(
        client
          .watch()
          .prefix(prefix)
          .startRevision(String(BigInt(res.header.revision) + 1n))
          .create(),
        ETCD_WAIT_MS,
        'etcd watch',
      );
      if (this.#destroyed) {
        await watcher.cancel();
        return;
      }
      watcher.on('put', (kv) => {
        this.#values.set(kv.key.toString(), kv.value.toString());
        void this.#report();
      });
      watcher.on('delete', (kv) => {
        this.#values.delete(kv.key.toString());
        void this.#report();
      });
      watcher.on('error', () => {
        // etcd3 re-opens the watch by itself; nothing to change in the address list meanwhile.
      });
      this.#watcher = watcher;
      await this.#report();
    } catch (err) {
      if (this.#destroyed) return;
      fail(this.#listener, status.UNAVAILABLE, `${where}: ${describeEtcdError(this.#hosts, err)}`);
    }
  }

  async #report(): Promise<void> {
    const values = [...new Set(this.#values.values())];
    const endpoints = await toEndpoints(values);
    if (this.#destroyed) return;
    this.#lastFailed = endpoints.length === 0;
    if (endpoints.length === 0 && values.length === 0 && this.#lastSeen.length > 0) {
      fail(
        this.#listener,
        status.UNAVAILABLE,
        `the instance registered in etcd under "${this.#key}/" (${this.#lastSeen.join(', ')}) is gone: its lease ` +
          'expired or was revoked, so it stopped or stopped answering (e.g. frozen); restart it',
      );
      return;
    }
    if (values.length > 0) this.#lastSeen = values;
    if (endpoints.length === 0) {
      fail(
        this.#listener,
        status.UNAVAILABLE,
        `no instance is registered in etcd under "${this.#key}/" (etcd ${this.#hosts.join(',')}); start the service and check its Etcd.Key`,
      );
      return;
    }
    this.#listener({ ok: true, value: endpoints }, {}, { ok: true, value: SERVICE_CONFIG }, '');
  }

  destroy(): void {
    this.#destroyed = true;
    const w = this.#watcher;
    this.#watcher = undefined;
    if (w) void w.cancel().catch(() => undefined);
  }
}

/** `direct:///a:1,b:2`: a fixed list of endpoints. */
class DirectResolver implements experimental.Resolver {
  readonly #endpoints: string[];
  readonly #listener: ResolverListener;

  constructor(target: GrpcUri, listener: ResolverListener, _options: ChannelOptions) {
    this.#endpoints = target.path.split(',').filter((e) => e !== '');
    this.#listener = listener;
  }

  static getDefaultAuthority(target: GrpcUri): string {
    return target.path.split(',')[0] ?? '';
  }

  updateResolution(): void {
    void toEndpoints(this.#endpoints).then((endpoints) => {
      if (endpoints.length === 0) {
        fail(this.#listener, status.UNAVAILABLE, `direct:///${this.#endpoints.join(',')}: no usable endpoint`);
      } else {
        this.#listener({ ok: true, value: endpoints }, {}, { ok: true, value: SERVICE_CONFIG }, '');
      }
    });
  }

  destroy(): void {}
}

let registered = false;

/**
 * Registers the `etcd`, `discov` and `direct` schemes with @grpc/grpc-js (the analogue of go-zero's
 * `resolver.Register()`). Idempotent; call it before creating channels for such targets.
 */
export function registerResolvers(): void {
  if (registered) return;
  registered = true;
  experimental.registerResolver('etcd', EtcdResolver);
  experimental.registerResolver('discov', EtcdResolver);
  experimental.registerResolver('direct', DirectResolver);
}
