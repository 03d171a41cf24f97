import {
  type handleUnaryCall,
  type Server,
  type ServerWritableStream,
  type ServiceDefinition,
  status,
} from '@grpc/grpc-js';

/** `grpc.health.v1.HealthCheckResponse.ServingStatus`. */
export const ServingStatus = { UNKNOWN: 0, SERVING: 1, NOT_SERVING: 2, SERVICE_UNKNOWN: 3 } as const;
export type ServingStatus = (typeof ServingStatus)[keyof typeof ServingStatus];

interface HealthCheckRequest {
  service: string;
}
interface HealthCheckResponse {
  status: ServingStatus;
}

// The two messages are one field each; encoding them by hand spares a proto dependency.
function decodeRequest(buf: Buffer): HealthCheckRequest {
  let i = 0;
  let service = '';
  const varint = (): number => {
    let v = 0;
    let shift = 0;
    for (;;) {
      const b = buf[i++] as number;
      v += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return v;
      shift += 7;
    }
  };
  while (i < buf.length) {
    const tag = varint();
    const wire = tag & 7;
    if (wire === 2) {
      const len = varint();
      if (tag >> 3 === 1) service = buf.toString('utf8', i, i + len);
      i += len;
    } else if (wire === 0) varint();
    else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else throw new Error(`bad wire type ${wire}`);
  }
  return { service };
}

const encodeResponse = (r: HealthCheckResponse): Buffer =>
  r.status === 0 ? Buffer.alloc(0) : Buffer.from([0x08, r.status]);

const HealthService: ServiceDefinition = {
  check: {
    path: '/grpc.health.v1.Health/Check',
    requestStream: false,
    responseStream: false,
    requestSerialize: () => Buffer.alloc(0),
    requestDeserialize: decodeRequest,
    responseSerialize: encodeResponse,
    responseDeserialize: () => ({ status: 0 }),
  },
  watch: {
    path: '/grpc.health.v1.Health/Watch',
    requestStream: false,
    responseStream: true,
    requestSerialize: () => Buffer.alloc(0),
    requestDeserialize: decodeRequest,
    responseSerialize: encodeResponse,
    responseDeserialize: () => ({ status: 0 }),
  },
};

/**
 * The standard gRPC health service, as go-zero serves it (grpc-go's `health.Server`): the overall status (service
 * `""`) is what go-zero sets — SERVING once the server is registered, NOT_SERVING while it drains.
 */
export class HealthServer {
  readonly #statuses = new Map<string, ServingStatus>([['', ServingStatus.NOT_SERVING]]);
  readonly #watchers = new Set<{
    service: string;
    call: ServerWritableStream<HealthCheckRequest, HealthCheckResponse>;
  }>();

  addTo(server: Server): void {
    server.addService(HealthService, {
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
    });
  }

  setServingStatus(service: string, s: ServingStatus): void {
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
