import type { Etcd3, Lease } from 'etcd3';
import type { EtcdConf } from '../conf/config.ts';
import { withTimeout } from '../internal/timeout.ts';
import { describeEtcdError, ETCD_GRANT_WAIT_MS, ETCD_REQUEST_TIMEOUT_MS, etcdClient } from './clients.ts';

/** go-zero's `discov.TimeToLive`: lease TTL of a registration, in seconds. */
export const TIME_TO_LIVE_S = 10;

export interface PublisherOptions {
  /** Called when the registration was lost and re-made (new lease id, new key). */
  onReregister?: (key: string) => void;
  /** Called when re-registration fails; it is retried every second. */
  onError?: (err: Error) => void;
}

/**
 * Registers `value` under `<Key>/<lease id in decimal>` on a 10 s lease kept alive, as go-zero v1.4's
 * Publisher does; when the lease is lost it registers again (new lease) every second until it works.
 */
export class Publisher {
  readonly #client: Etcd3;
  readonly #conf: EtcdConf;
  readonly #value: string;
  readonly #opts: PublisherOptions;
  #lease: Lease | undefined;
  #key: string | undefined;
  #stopped = false;
  #retry: NodeJS.Timeout | undefined;

  constructor(conf: EtcdConf, value: string, opts: PublisherOptions = {}) {
    this.#conf = conf;
    this.#value = value;
    this.#opts = opts;
    this.#client = etcdClient(conf.Hosts, { user: conf.User, pass: conf.Pass });
  }

  /** The registered key, e.g. `trans/7587868207391062020`, once `keepAlive` resolved. */
  get key(): string | undefined {
    return this.#key;
  }

  /** Registers and keeps the registration alive. Rejects with a clear error when etcd is unreachable. */
  async keepAlive(): Promise<string> {
    return this.#register();
  }

  async #register(): Promise<string> {
    const lease = this.#client.lease(TIME_TO_LIVE_S, { autoKeepAlive: true });
    lease.on('lost', () => {
      if (this.#stopped || this.#lease !== lease) return;
      this.#scheduleRetry();
    });
    // Lease ids are int64: etcd3 gives them as decimal strings, which is exactly go-zero's key suffix.
    let id: string;
    try {
      id = await withTimeout(lease.grant(), ETCD_GRANT_WAIT_MS, 'lease grant');
      const key = `${this.#conf.Key}/${id}`;
      await lease.put(key).value(this.#value).exec();
      this.#lease = lease;
      this.#key = key;
      return key;
    } catch (err) {
      lease.release();
      throw new Error(describeEtcdError(this.#conf.Hosts, err), { cause: err });
    }
  }

  #scheduleRetry(): void {
    if (this.#stopped || this.#retry) return;
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      this.#register().then(
        (key) => this.#opts.onReregister?.(key),
        (err: Error) => {
          this.#opts.onError?.(err);
          this.#scheduleRetry();
        },
      );
    }, 1000);
  }

  /** Revokes the lease, so the key disappears at once (not after the TTL). */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#retry) clearTimeout(this.#retry);
    const lease = this.#lease;
    this.#lease = undefined;
    if (lease) await withTimeout(lease.revoke(), ETCD_REQUEST_TIMEOUT_MS, 'lease revoke');
  }
}
