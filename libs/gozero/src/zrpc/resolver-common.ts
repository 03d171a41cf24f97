// What the resolvers of zrpc/resolver.ts and zrpc/k8s/resolver.ts share (its own module, so they do not import
// each other): the service config they report, and how they report an error.
import { type ChannelOptions, type experimental, Metadata, type status } from '@grpc/grpc-js';
import { P2C } from './p2c.ts';

// go-zero's clients balance with p2c; a channel given its own `grpc.service_config` (e.g. round_robin) keeps it.
const P2C_CONFIG = { loadBalancingConfig: [{ [P2C]: {} }], methodConfig: [] };

export function serviceConfig(options: ChannelOptions) {
  return options['grpc.service_config'] ? null : { ok: true as const, value: P2C_CONFIG };
}

export function fail(listener: experimental.ResolverListener, code: status, details: string): void {
  listener({ ok: false, error: { code, details, metadata: new Metadata() } }, {}, null, details);
}
