import type { Etcd3, IKeyValue, Watcher } from 'etcd3';
import { coolDown, withTimeout } from '../internal/timeout.ts';
import { COOL_DOWN_MS, describeEtcdError, ETCD_WAIT_MS, etcdClient } from './clients.ts';

/** Why the values changed: a full listing of the prefix (first load, or a re-list), or one watch event. */
export type UpdateCause = 'list' | 'event';

export interface SubscriberListener {
  /** The current values under `key/` (deduplicated, in key order), after every change. */
  update(values: string[], cause: UpdateCause): void;
  /** A listing failed (etcd unreachable, bad credentials…); the subscriber retries about every second. */
  error(err: Error): void;
}

/**
 * go-zero's `discov.Subscriber` over `core/discov/internal/registry.go`: lists every value under `key/`, then
 * watches the prefix from the listed revision. When the watch is cancelled (its revision compacted, a
 * permission change) or its connection drops, it lists again and watches again from the new revision, so a
 * restored or restarted etcd is followed too; failed listings are retried every second (±5 %). While etcd
 * is away the last values stay. Every attempt has a deadline, and a superseded watch is always cancelled.
 */
export class Subscriber {
  readonly #hosts: string[];
  readonly #key: string;
  readonly #listener: SubscriberListener;
  readonly #client: Etcd3;
  #values = new Map<string, string>();
  #watcher: Watcher | undefined;
  /** Bumped on every restart and on close: work started for an older generation stops at its next step. */
  #gen = 0;
  #closed = false;

  constructor(hosts: string[], key: string, listener: SubscriberListener) {
    this.#hosts = hosts;
    this.#key = key;
    this.#listener = listener;
    this.#client = etcdClient(hosts);
    void this.#run(this.#gen);
  }

  values(): string[] {
    const keys = [...this.#values.keys()].sort();
    return [...new Set(keys.map((k) => this.#values.get(k) as string))];
  }

  close(): void {
    this.#closed = true;
    this.#gen++;
    this.#dropWatcher();
  }

  #restart(): void {
    if (this.#closed) return;
    const gen = ++this.#gen;
    this.#dropWatcher();
    void this.#run(gen);
  }

  #dropWatcher(): void {
    const w = this.#watcher;
    this.#watcher = undefined;
    // Its handlers check that it is still the current watcher, so a late event of it changes nothing.
    if (w) void w.cancel().catch(() => undefined);
  }

  async #run(gen: number): Promise<void> {
    const prefix = `${this.#key}/`;
    while (!this.#closed && gen === this.#gen) {
      let revision: bigint;
      try {
        const res = await withTimeout(this.#client.getAll().prefix(prefix).exec(), ETCD_WAIT_MS, 'etcd get');
        if (gen !== this.#gen) return;
        this.#values = new Map(res.kvs.map((kv) => [kv.key.toString(), kv.value.toString()]));
        revision = BigInt(res.header.revision);
        this.#listener.update(this.values(), 'list');
      } catch (err) {
        if (gen !== this.#gen) return;
        this.#listener.error(new Error(describeEtcdError(this.#hosts, err), { cause: err }));
        await coolDown(COOL_DOWN_MS);
        continue;
      }
      if (await this.#watch(gen, prefix, revision)) return;
      await coolDown(COOL_DOWN_MS);
    }
  }

  /** Starts the watch from `revision + 1`; true once it is attached, false to list again. */
  async #watch(gen: number, prefix: string, revision: bigint): Promise<boolean> {
    // watcher() attaches at once and returns the Watcher, so a watch whose creation times out can still be
    // cancelled (create() would leave it attached in the client, unseen, for good).
    const w = this.#client
      .watch()
      .prefix(prefix)
      .startRevision(String(revision + 1n))
      .watcher();
    const current = (): boolean => this.#watcher === w;
    // Registered first (never removed: etcd3's own listeners live on the same emitter), so nothing is missed.
    w.on('put', (kv: IKeyValue) => current() && this.#apply(kv, true));
    w.on('delete', (kv: IKeyValue) => current() && this.#apply(kv, false));
    // A cancelled watch (compacted revision…) is gone from the client for good; a dropped connection is
    // re-attached by etcd3 from its last revision, which misses an etcd restored or restarted empty. Either
    // way, list again: that is go-zero's reload after a compaction or a reconnect.
    let attachFailed: ((err: unknown) => void) | undefined;
    const onTrouble = (err: unknown): void => {
      if (attachFailed) attachFailed(err);
      else if (current()) this.#restart();
    };
    w.on('error', onTrouble);
    w.on('disconnected', onTrouble);
    this.#watcher = w;
    try {
      await withTimeout(
        new Promise<void>((resolve, reject) => {
          attachFailed = reject;
          w.once('connected', () => resolve());
        }),
        ETCD_WAIT_MS,
        'etcd watch',
      );
    } catch {
      if (current()) this.#dropWatcher();
      return false;
    } finally {
      attachFailed = undefined;
    }
    if (gen !== this.#gen) {
      if (current()) this.#dropWatcher();
      return true;
    }
    return true;
  }

  #apply(kv: IKeyValue, put: boolean): void {
    const k = kv.key.toString();
    if (put) {
      const v = kv.value.toString();
      if (this.#values.get(k) === v) return;
      this.#values.set(k, v);
    } else if (!this.#values.delete(k)) return;
    this.#listener.update(this.values(), 'event');
  }
}
