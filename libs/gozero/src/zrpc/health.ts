import type { handleUnaryCall, Server, ServerWritableStream } from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';

/** `grpc.health.v1.HealthCheckResponse.ServingStatus`, as grpc-health-check's proto-loader definition spells it. */
export const ServingStatus = {
  UNKNOWN: 'UNKNOWN',
  SERVING: 'SERVING',
  NOT_SERVING: 'NOT_SERVING',
  SERVICE_UNKNOWN: 'SERVICE_UNKNOWN',
} as const;
export type ServingStatus = (typeof ServingStatus)[keyof typeof ServingStatus];
/** The enum's numbers (what the wire carries), accepted too: 0 UNKNOWN, 1 SERVING, 2 NOT_SERVING, 3 SERVICE_UNKNOWN. */
const BY_NUMBER: readonly ServingStatus[] = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'];

interface HealthCheckRequest {
  service: string;
}
interface HealthCheckResponse {
  status: ServingStatus;
}

/**
 * The standard gRPC health service, as go-zero serves it (grpc-go's `health.Server`): the overall status (service
 * `""`) is what go-zero sets — SERVING once the server is registered, NOT_SERVING while it drains. The messages are
 * decoded and encoded by grpc-health-check's definition (protobufjs): a malformed body is refused by the library,
 * never parsed by hand. Its HealthImplementation is not used because a draining server must end the Watch streams.
 */
export class HealthServer {
  readonly #statuses = new Map<string, ServingStatus>([['', ServingStatus.NOT_SERVING]]);
  readonly #watchers = new Set<{
    service: string;
    call: ServerWritableStream<HealthCheckRequest, HealthCheckResponse>;
  }>();

  addTo(server: Server): void {
    server.addService(healthService, {
      check: ((call, cb) => {
        const s = this.#statuses.get(call.request.service);
        if (s === undefined) cb({ code: status.NOT_FOUND, details: 'unknown service' });
        else cb(null, { status: s });
      }) satisfies handleUnaryCall<HealthCheckRequest, HealthCheckResponse>,
      watch: (call: ServerWritableStream<HealthCheckRequest, HealthCheckResponse>) => {
        const w = { service: call.request.service, call };
        this.#watchers.add(w);
        call.write({ status: this.#statuses.get(w.service) ?? ServingStatus.SERVICE_UNKNOWN });
        call.on('cancelled', () => this.#watchers.delete(w));
      },
      list: (
        _call: unknown,
        cb: (err: null, v: { statuses: Record<string, { status: ServingStatus }> }) => void,
      ): void => {
        cb(null, { statuses: Object.fromEntries([...this.#statuses].map(([k, s]) => [k, { status: s }])) });
      },
    });
  }

  setServingStatus(service: string, status: ServingStatus | 0 | 1 | 2 | 3): void {
    const s = typeof status === 'number' ? (BY_NUMBER[status] as ServingStatus) : status;
    this.#statuses.set(service, s);
    for (const w of this.#watchers) if (w.service === service) w.call.write({ status: s });
  }

  /** Everything NOT_SERVING and the Watch streams ended, so a draining server can finish. */
  shutdown(): void {
    for (const k of this.#statuses.keys()) this.setServingStatus(k, ServingStatus.NOT_SERVING);
    for (const w of this.#watchers) w.call.end();
    this.#watchers.clear();
  }
}
