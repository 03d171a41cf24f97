import { createRequire } from 'node:module';

/**
 * Loads a dependency only a configured feature needs (the OpenTelemetry SDK and exporters, prom-client) at its first
 * use: a service that configures neither tracing nor metrics never pays their memory (≈ 10 MiB of RSS). Synchronous,
 * so `startAgent()` and `enableMetrics()` stay synchronous and nothing traced or counted after them is lost.
 */
export const requireOptional = createRequire(import.meta.url);
