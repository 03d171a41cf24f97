import { lookup } from 'node:dns/promises';
import { type ChannelOptions, experimental, status } from '@grpc/grpc-js';
import { Subscriber, type UpdateCause } from '../discov/subscriber.ts';
import { splitHostPort } from '../internal/host-port.ts';
import { KubeResolver } from './k8s/resolver.ts';
import { registerP2c } from './p2c.ts';
import { fail, serviceConfig } from './resolver-common.ts';
import { parseTarget } from './target.ts';

type Endpoint = experimental.Endpoint;
type GrpcUri = experimental.GrpcUri;
type ResolverListener = experimental.ResolverListener;

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

type Report = { values: string[] } | { error: string };

/**
 * `etcd://h1,h2/key` and `discov://…`: a `Subscriber` of `key/` (list, watch, re-list after a cancelled watch
 * or a reconnect, retry every second) feeding grpc-js. Reports go out one at a time and only the newest
 * pending one is sent, so a slow host-name lookup can never bring back an address removed after it.
 */
class EtcdResolver implements experimental.Resolver {
  readonly #hosts: string[];
  readonly #key: string;
  readonly #listener: ResolverListener;
  readonly #options: ChannelOptions;
  #sub: Subscriber | undefined;
  #pending: Report | undefined;
  #reporting = false;
  #lastFailed = true;
  #lastValues: string[] = [];
  /** The addresses last seen registered: when they all go, the service was there and stopped renewing its lease. */
  #lastSeen: string[] = [];

  constructor(target: GrpcUri, listener: ResolverListener, options: ChannelOptions) {
    ({ hosts: this.#hosts, key: this.#key } = etcdHostsKey(target));
    this.#listener = listener;
    this.#options = options;
  }

  static getDefaultAuthority(target: GrpcUri): string {
    return etcdHostsKey(target).key;
  }

  updateResolution(): void {
    if (this.#sub) {
      // The subscriber pushes every change; load balancers ask again whenever a connection drops, and
      // answering each ask with the same list would spin. Only an earlier failure is worth reporting again.
      if (this.#lastFailed && !this.#reporting)
        this.#enqueue(this.#lastValues.length ? { values: this.#lastValues } : undefined);
      return;
    }
    if (this.#hosts.length === 0 || this.#key === '') {
      fail(
        this.#listener,
        status.INVALID_ARGUMENT,
        `target etcd://${this.#hosts.join(',')}/${this.#key} is malformed; write etcd://host:port/key`,
      );
      return;
    }
    this.#sub = new Subscriber(this.#hosts, this.#key, {
      update: (values, cause) => this.#onUpdate(values, cause),
      error: (err) => {
        // While etcd is away, keep the last addresses (go-zero keeps its values too); fail only with none.
        if (this.#lastValues.length === 0)
          this.#enqueue({ error: `etcd://${this.#hosts.join(',')}/${this.#key}: ${err.message}` });
      },
    });
  }

  #onUpdate(values: string[], _cause: UpdateCause): void {
    // Every listing is published as it is, an empty re-list too (etcd restored or restarted empty): go-zero's
    // registry does the same, and an address no longer registered may now be another process's port.
    this.#lastValues = values;
    this.#enqueue({ values });
  }

  #enqueue(report: Report | undefined): void {
    if (!report) return;
    this.#pending = report;
    if (!this.#reporting) void this.#drain();
  }

  async #drain(): Promise<void> {
    this.#reporting = true;
    try {
      while (this.#pending && this.#sub) {
        const r = this.#pending;
        this.#pending = undefined;
        if ('error' in r) {
          this.#lastFailed = true;
          fail(this.#listener, status.UNAVAILABLE, r.error);
          continue;
        }
        if (r.values.length > 0) this.#lastSeen = r.values;
        const endpoints = await toEndpoints(r.values);
        if (!this.#sub) return;
        if (this.#pending) continue; // superseded while looking names up: the newer one wins
        this.#lastFailed = endpoints.length === 0;
        if (endpoints.length === 0 && r.values.length === 0 && this.#lastSeen.length > 0) {
          fail(
            this.#listener,
            status.UNAVAILABLE,
            `the instance registered in etcd under "${this.#key}/" (${this.#lastSeen.join(', ')}) is gone: its lease ` +
              'expired or was revoked (it stopped, or stopped answering, e.g. frozen), or etcd lost its data; restart it',
          );
        } else if (endpoints.length === 0) {
          fail(
            this.#listener,
            status.UNAVAILABLE,
            `no instance is registered in etcd under "${this.#key}/" (etcd ${this.#hosts.join(',')}); start the service and check its Etcd.Key`,
          );
        } else {
          this.#listener({ ok: true, value: endpoints }, {}, serviceConfig(this.#options), '');
        }
      }
    } finally {
      this.#reporting = false;
    }
  }

  destroy(): void {
    this.#sub?.close();
    this.#sub = undefined;
    this.#pending = undefined;
    this.#lastValues = [];
    this.#lastFailed = true;
  }
}

/** Hosts and key of go-zero v1.4's `etcd://h1,h2/key` or v1.10's `etcd:///h1,h2?key=k`; empty when malformed. */
function etcdHostsKey(target: GrpcUri): { hosts: string[]; key: string } {
  try {
    const t = parseTarget(`${target.scheme}://${target.authority ?? ''}/${target.path}`);
    if (t.scheme === 'etcd' || t.scheme === 'discov') return { hosts: t.hosts, key: t.key };
  } catch {
    // reported by updateResolution as a malformed target
  }
  return { hosts: [], key: '' };
}

/** `direct:///a:1,b:2`: a fixed list of endpoints. */
class DirectResolver implements experimental.Resolver {
  readonly #endpoints: string[];
  readonly #listener: ResolverListener;
  readonly #options: ChannelOptions;
  #reported = false;
  #resolving = false;

  constructor(target: GrpcUri, listener: ResolverListener, options: ChannelOptions) {
    this.#endpoints = target.path.split(',').filter((e) => e !== '');
    this.#listener = listener;
    this.#options = options;
  }

  static getDefaultAuthority(target: GrpcUri): string {
    return target.path.split(',')[0] ?? '';
  }

  updateResolution(): void {
    // The list never changes: once reported, a balancer's ask after a dropped connection (a draining server
    // asks at once, again and again) is not answered, or the answers spin without ever yielding to timers.
    if (this.#reported || this.#resolving) return;
    this.#resolving = true;
    void toEndpoints(this.#endpoints).then((endpoints) => {
      this.#resolving = false;
      if (endpoints.length === 0) {
        fail(this.#listener, status.UNAVAILABLE, `direct:///${this.#endpoints.join(',')}: no usable endpoint`);
      } else {
        this.#reported = true;
        this.#listener({ ok: true, value: endpoints }, {}, serviceConfig(this.#options), '');
      }
    });
  }

  destroy(): void {
    this.#reported = false;
  }
}

let registered = false;

/**
 * Registers the `etcd`, `discov`, `direct` and `k8s` schemes and the `p2c_ewma` balancer with @grpc/grpc-js (the
 * analogue of go-zero's `resolver.Register()`). Idempotent; call it before creating channels for such targets.
 */
export function registerResolvers(): void {
  if (registered) return;
  registered = true;
  registerP2c();
  experimental.registerResolver('etcd', EtcdResolver);
  experimental.registerResolver('discov', EtcdResolver);
  experimental.registerResolver('direct', DirectResolver);
  experimental.registerResolver('k8s', KubeResolver);
}
