import type { handleUnaryCall, Server, ServiceDefinition, UntypedServiceImplementation } from '@grpc/grpc-js';

type Unary = handleUnaryCall<unknown, unknown>;

/**
 * Wraps every unary handler of the services added to `server` from now on (grpc-js has no server interceptor
 * chain for handlers): `wrap(handler, path)` returns the handler to serve. Called twice, the later wrap runs first.
 */
export function wrapUnaryHandlers(server: Server, wrap: (h: Unary, path: string) => Unary): void {
  const add = server.addService.bind(server);
  server.addService = (service: ServiceDefinition, impl: UntypedServiceImplementation): void => {
    const wrapped: UntypedServiceImplementation = { ...impl };
    for (const [name, def] of Object.entries(service)) {
      if (def.requestStream || def.responseStream) continue;
      for (const key of [name, def.originalName]) {
        const h = key ? (impl[key] as Unary | undefined) : undefined;
        if (key && typeof h === 'function') wrapped[key] = wrap(h, def.path);
      }
    }
    add(service, wrapped);
  };
}
