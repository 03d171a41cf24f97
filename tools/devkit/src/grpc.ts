import type { Server } from '@grpc/grpc-js';

/** Lets calls in progress finish, then closes the server; forces it shut after `graceMs`. */
export function stopGrpcServer(server: Server, graceMs = 1000): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    force.unref();
    server.tryShutdown(() => {
      clearTimeout(force);
      resolve();
    });
  });
}
