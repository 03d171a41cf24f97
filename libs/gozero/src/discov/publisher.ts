import type { Etcd3, Lease, Watcher } from 'etcd3';
import type { EtcdConf } from '../conf/config.ts';
import { withTimeout } from '../internal/timeout.ts';
import { logx } from '../logx/logx.ts';
import {
  COOL_DOWN_MS,
  describeEtcdError,
  ETCD_GRANT_WAIT_MS,
  ETCD_REQUEST_TIMEOUT_MS,
  ETCD_WAIT_MS,
  etcdClient,
  useEtcdConf,
} from './clients.ts';

// The library's own lines are logx lines (stderr, as go-zero's discov logs them with logx.Error).
const CALLER = { caller: 'discov/publisher.go' };

/** go-zero's `discov.TimeToLive`: lease TTL of a registration, in seconds. */
export const TIME_TO_LIVE_S = 10;

export interface PublisherOptions {
  /** go-zero's `WithId`: register under `<Key>/<id>` instead of `<Key>/<lease id>` (Etcd.ID in the YAML). */
  id?: number | undefined;
  /** Lease TTL in seconds (default go-zero's 10). */
  ttlSeconds?: number | undefined;
  /** Called after the registration was lost and made again (new lease), or its deleted key put back. */
  onReregister?: (key: string) => void;
  /** Called when re-registration fails; it is retried every second. Default: a line on stderr. */
  onError?: (err: Error) => void;
}

/**
 * Registers `value` under `<Key>/<lease id in decimal>` (or `<Key>/<ID>`) on a lease kept alive, as go-zero's
 * Publisher does: when the lease is lost it registers again (new lease) every second until it works, and when
 * the key is deleted while the lease lives it puts it back at once (go-zero watches its own key for that).
 * Nothing is registered after `stop()`, not even by a re-registration already in flight.
 */
export class Publisher {
  readonly #client: Etcd3;
  readonly #conf: EtcdConf;
  readonly #value: string;
  readonly #opts: PublisherOptions;
  readonly #ttl: number;
  #lease: Lease | undefined;
  #watch: Watcher | undefined;
  #key: string | undefined;
  #stopped = false;
  #retry: NodeJS.Timeout | undefined;
  #inflight: Promise<unknown> | undefined;

  constructor(conf: EtcdConf, value: string, opts: PublisherOptions = {}) {
    this.#conf = conf;
    this.#value = value;
    this.#opts = opts;
    this.#ttl = opts.ttlSeconds ?? TIME_TO_LIVE_S;
    useEtcdConf(conf);
    this.#client = etcdClient(conf.Hosts);
  }

  /** The registered key, e.g. `trans/7587868207391062020`, once `keepAlive` resolved. */
  get key(): string | undefined {
    return this.#key;
  }

  /** Registers and keeps the registration alive. Rejects with a clear error when etcd is unreachable. */
  async keepAlive(): Promise<string> {
    if (this.#stopped) throw new Error(`publisher of ${this.#conf.Key} is stopped`);
    const p = this.#register();
    this.#inflight = p.catch(() => undefined);
    return p;
  }

  #log(err: Error): void {
    if (this.#opts.onError) this.#opts.onError(err);
    else logx.error(`etcd publisher ${this.#conf.Key}: ${err.message}`, CALLER);
  }

  async #register(): Promise<string> {
    const lease = this.#client.lease(this.#ttl, { autoKeepAlive: true });
    lease.on('lost', () => {
      if (this.#stopped || this.#lease !== lease) return;
      this.#scheduleRetry();
    });
    try {
      // Lease ids are int64: etcd3 gives them as decimal strings, which is exactly go-zero's key suffix.
      const id = await withTimeout(lease.grant(), ETCD_GRANT_WAIT_MS, 'lease grant');
      const fixed = this.#opts.id ?? this.#conf.ID;
      const key = `${this.#conf.Key}/${fixed && fixed > 0 ? fixed : id}`;
      await withTimeout(lease.put(key).value(this.#value).exec(), ETCD_WAIT_MS, 'etcd put');
      if (this.#stopped) {
        // stop() ran while this registration was in flight: take it back instead of leaving it behind.
        await withTimeout(lease.revoke(), ETCD_REQUEST_TIMEOUT_MS, 'lease revoke').catch(() => lease.release());
        throw new Error(`publisher of ${this.#conf.Key} was stopped while registering`);
      }
      const old = this.#lease;
      this.#lease = lease;
      this.#key = key;
      // The lost lease may still live in an etcd that came back with its data: revoke it, as go-zero does.
      if (old) void withTimeout(old.revoke(), ETCD_REQUEST_TIMEOUT_MS, 'lease revoke').catch(() => undefined);
      await this.#watchOwnKey(lease, key);
      return key;
    } catch (err) {
      lease.release();
      if (err instanceof Error && /was stopped/.test(err.message)) throw err;
      throw new Error(describeEtcdError(this.#conf.Hosts, err), { cause: err });
    }
  }

  /** Puts the key back when someone deletes it while our lease lives (go-zero's publisher does the same). */
  async #watchOwnKey(lease: Lease, key: string): Promise<void> {
    // The old watch's handlers check that it is current; etcd3's own listeners must stay, so none is removed.
    void this.#watch?.cancel().catch(() => undefined);
    const w = this.#client.watch().key(key).only('delete').watcher();
    this.#watch = w;
    w.on('error', () => {
      // A cancelled watch is gone for good; register again (a new lease and key), as go-zero does.
      if (this.#watch === w && !this.#stopped) this.#scheduleRetry(true);
    });
    w.on('delete', () => {
      if (this.#stopped || this.#watch !== w || this.#lease !== lease || lease.revoked()) return;
      withTimeout(lease.put(key).value(this.#value).exec(), ETCD_WAIT_MS, 'etcd put').then(
        () => {
          if (this.#stopped) return;
          logx.error(`etcd publisher: ${key} was deleted; put it back`, CALLER);
          this.#opts.onReregister?.(key);
        },
        (err: Error) => this.#log(new Error(`putting back ${key} failed: ${describeEtcdError(this.#conf.Hosts, err)}`)),
      );
    });
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        w.once('connected', () => resolve());
        w.once('error', reject);
      }),
      ETCD_WAIT_MS,
      'etcd watch',
    ).catch(() => undefined); // the watch attaches when etcd answers; registration does not wait for it
  }

  #scheduleRetry(now = false): void {
    if (this.#stopped || this.#retry) return;
    this.#retry = setTimeout(
      () => {
        this.#retry = undefined;
        if (this.#stopped) return;
        const p = this.#register().then(
          (key) => {
            logx.error(`etcd publisher: registered again as ${key}`, CALLER);
            this.#opts.onReregister?.(key);
          },
          (err: Error) => {
            if (this.#stopped) return;
            this.#log(new Error(`registering again failed, retrying in 1 s: ${err.message}`));
            this.#scheduleRetry();
          },
        );
        this.#inflight = p;
      },
      now ? 0 : COOL_DOWN_MS,
    );
  }

  /** Revokes the lease, so the key disappears at once (not after the TTL). */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#retry) clearTimeout(this.#retry);
    this.#retry = undefined;
    const w = this.#watch;
    this.#watch = undefined;
    void w?.cancel().catch(() => undefined);
    // A registration in flight finishes (and takes itself back) before we revoke what is current.
    await this.#inflight;
    const lease = this.#lease;
    this.#lease = undefined;
    if (lease) await withTimeout(lease.revoke(), ETCD_REQUEST_TIMEOUT_MS, 'lease revoke');
  }
}
