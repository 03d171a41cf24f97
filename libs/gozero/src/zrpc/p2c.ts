import { type ChannelOptions, connectivityState, experimental } from '@grpc/grpc-js';
import { acceptable } from './codes.ts';

type Endpoint = experimental.Endpoint;
type Picker = experimental.Picker;
type PickResult = experimental.PickResult;

/** The policy's name in a service config, as go-zero names its balancer. */
export const P2C = 'p2c_ewma';

// go-zero's zrpc/internal/balancer/p2c constants.
const DECAY_NS = 10e9; // EWMA decay time of latency and success
const FORCE_PICK_NS = 1e9; // a node not picked for this long is picked once, to refresh its stats
const INIT_SUCCESS = 1000;
const THROTTLE_SUCCESS = INIT_SUCCESS / 2;
const PENALTY = 2 ** 31 - 1;
const PICK_TIMES = 3;

const now = (): number => Number(process.hrtime.bigint());

/** What go-zero's p2c keeps per connection: EWMA latency (ns), in-flight calls, EWMA success, last pick. */
export class NodeStats {
  lag = 0;
  inflight = 0;
  success = INIT_SUCCESS;
  last = 0;
  pick = 0;

  healthy(): boolean {
    return this.success > THROTTLE_SUCCESS;
  }

  load(): number {
    const load = Math.floor(Math.sqrt(this.lag + 1)) * (this.inflight + 1);
    return load === 0 ? PENALTY : load;
  }

  /** Folds one finished call into the averages, weighted by the time since the previous one. */
  done(startNs: number, code: number): void {
    this.inflight--;
    const t = now();
    const td = Math.max(0, t - (this.last || t));
    this.last = t;
    const w = this.lag === 0 ? 0 : Math.exp(-td / DECAY_NS);
    const lag = Math.max(0, t - startNs);
    this.lag = this.lag * w + lag * (1 - w);
    const success = acceptable(code) ? INIT_SUCCESS : 0; // go-zero's codes.Acceptable
    this.success = this.success * w + success * (1 - w);
  }
}

/** Power of two choices: the less loaded of two random nodes, unless the other has not been picked for 1 s. */
export function choose<T extends { stats: NodeStats }>(nodes: T[], random: () => number = Math.random): T {
  const t = now();
  if (nodes.length === 1) {
    const only = nodes[0] as T;
    only.stats.pick = t;
    return only;
  }
  let a = nodes[0] as T;
  let b = nodes[1] as T;
  if (nodes.length > 2) {
    for (let i = 0; i < PICK_TIMES; i++) {
      const x = Math.floor(random() * nodes.length);
      let y = Math.floor(random() * (nodes.length - 1));
      if (y >= x) y++;
      a = nodes[x] as T;
      b = nodes[y] as T;
      if (a.stats.healthy() && b.stats.healthy()) break;
    }
  }
  if (a.stats.load() > b.stats.load()) [a, b] = [b, a];
  if (t - b.stats.pick > FORCE_PICK_NS) {
    b.stats.pick = t;
    return b;
  }
  a.stats.pick = t;
  return a;
}

interface Child {
  leaf: experimental.LeafLoadBalancer;
  stats: NodeStats;
}

/**
 * @internal Exported for its unit test. A call counts as in flight from onCallStarted, not from the pick: grpc-js
 * picks again, without ending the first pick, when the picked subchannel stops being READY before the call
 * starts, so counting at pick time would leak and leave an instance penalised for good.
 */
export class P2cPicker implements Picker {
  readonly #ready: { picker: Picker; stats: NodeStats }[];

  constructor(ready: { picker: Picker; stats: NodeStats }[]) {
    this.#ready = ready;
  }

  pick(args: experimental.PickArgs): PickResult {
    const node = choose(this.#ready);
    const res = node.picker.pick(args);
    if (res.pickResultType !== experimental.PickResultType.COMPLETE) return res;
    const { stats } = node;
    const started = res.onCallStarted;
    const ended = res.onCallEnded;
    let start = 0;
    return {
      ...res,
      onCallStarted: () => {
        start = now();
        stats.inflight++;
        started?.();
      },
      onCallEnded: (code, details, metadata) => {
        if (start !== 0) stats.done(start, code);
        ended?.(code, details, metadata);
      },
    };
  }
}

class P2cConfig implements experimental.TypedLoadBalancingConfig {
  getLoadBalancerName(): string {
    return P2C;
  }
  toJsonObject(): object {
    return { [P2C]: {} };
  }
  static createFromJson(_obj: unknown): P2cConfig {
    return new P2cConfig();
  }
}

/**
 * go-zero's `p2c_ewma` balancer for @grpc/grpc-js: one pick-first leaf per endpoint (like round_robin), the
 * call goes to the less loaded of two random READY endpoints, load = √(EWMA latency + 1) × (in-flight + 1).
 * Unlike go-zero, an endpoint keeps its statistics across address-list updates.
 */
class P2cLoadBalancer implements experimental.LoadBalancer {
  readonly #helper: experimental.ChannelControlHelper;
  readonly #childHelper: experimental.ChannelControlHelper;
  #children = new Map<string, Child>();
  #state = connectivityState.IDLE;
  #lastError: string | null = null;
  #paused = false;

  constructor(helper: experimental.ChannelControlHelper) {
    this.#helper = helper;
    this.#childHelper = experimental.createChildChannelControlHelper(helper, {
      updateState: (state, _picker, errorMessage) => {
        // A dropped connection may mean the instance left: ask the resolver (ours answers from its watch).
        if (this.#state === connectivityState.READY && state !== connectivityState.READY) helper.requestReresolution();
        if (errorMessage) this.#lastError = errorMessage;
        this.#update();
      },
    });
  }

  updateAddressList(
    endpoints: experimental.StatusOr<Endpoint[]>,
    config: experimental.TypedLoadBalancingConfig,
    options: ChannelOptions,
    note: string,
  ): boolean {
    if (!(config instanceof P2cConfig)) return false;
    if (!endpoints.ok) {
      // Keep serving the endpoints we have; fail only when there are none.
      if (this.#children.size === 0) {
        this.#setState(
          connectivityState.TRANSIENT_FAILURE,
          new experimental.UnavailablePicker(endpoints.error),
          endpoints.error.details,
        );
      }
      return true;
    }
    const next = new Map<string, Child>();
    this.#paused = true;
    for (const e of endpoints.value) {
      const id = experimental.endpointToString(e);
      const old = this.#children.get(id);
      if (old) {
        old.leaf.updateEndpoint(e, options);
        next.set(id, old);
        this.#children.delete(id);
      } else {
        const leaf = new experimental.LeafLoadBalancer(e, this.#childHelper, options, note);
        next.set(id, { leaf, stats: new NodeStats() });
        leaf.startConnecting();
      }
    }
    for (const gone of this.#children.values()) gone.leaf.destroy();
    this.#children = next;
    this.#paused = false;
    if (next.size === 0) {
      const msg = `No addresses resolved. Resolution note: ${note}`;
      this.#setState(connectivityState.TRANSIENT_FAILURE, new experimental.UnavailablePicker({ details: msg }), msg);
      return true;
    }
    this.#update();
    return true;
  }

  #update(): void {
    if (this.#paused) return;
    const children = [...this.#children.values()];
    const ready = children.filter((c) => c.leaf.getConnectivityState() === connectivityState.READY);
    if (ready.length > 0) {
      this.#setState(
        connectivityState.READY,
        new P2cPicker(ready.map((c) => ({ picker: c.leaf.getPicker(), stats: c.stats }))),
        null,
      );
    } else if (children.some((c) => c.leaf.getConnectivityState() === connectivityState.CONNECTING)) {
      this.#setState(connectivityState.CONNECTING, new experimental.QueuePicker(this), null);
    } else if (children.some((c) => c.leaf.getConnectivityState() === connectivityState.TRANSIENT_FAILURE)) {
      const msg = `p2c: no connection established; last error: ${this.#lastError}`;
      this.#setState(connectivityState.TRANSIENT_FAILURE, new experimental.UnavailablePicker({ details: msg }), msg);
    } else {
      this.#setState(connectivityState.IDLE, new experimental.QueuePicker(this), null);
    }
    // Keep every endpoint connected, as round_robin does, so a pick always has two candidates.
    for (const c of children) if (c.leaf.getConnectivityState() === connectivityState.IDLE) c.leaf.exitIdle();
  }

  #setState(state: connectivityState, picker: Picker, error: string | null): void {
    this.#state = state;
    this.#helper.updateState(state, picker, error);
  }

  exitIdle(): void {}

  resetBackoff(): void {}

  destroy(): void {
    for (const c of this.#children.values()) c.leaf.destroy();
    this.#children.clear();
  }

  getTypeName(): string {
    return P2C;
  }
}

let registered = false;

/** Registers `p2c_ewma` with @grpc/grpc-js (idempotent). */
export function registerP2c(): void {
  if (registered) return;
  registered = true;
  experimental.registerLoadBalancerType(P2C, P2cLoadBalancer, P2cConfig);
}
