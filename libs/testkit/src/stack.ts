import { chooseBackend, dockerEngine, requestedBackend } from './backend.ts';
import { startDocker } from './docker.ts';
import { readSharedDtmConfig } from './dtm-config.ts';
import { TestkitError } from './errors.ts';
import { PortClash, startLocal } from './local.ts';
import { DB_SH_MYSQL, DB_SH_REDIS, parseStore } from './stores.ts';
import type { DtmStack, DtmStackOptions } from './types.ts';

const LOCAL_TIMEOUT_MS = 30_000;
const DOCKER_TIMEOUT_MS = 180_000;
const PORT_ATTEMPTS = 3;

/**
 * Starts an etcd and a dtm (go-zero driver, registered in that etcd under `dtmservice/`) of the caller's own, on
 * free loopback ports, and resolves once etcd is healthy, dtm answers `/api/ping` and its key is in etcd.
 * Backends: `local` spawns local etcd and dtm binaries; `docker` runs the compose file's images with
 * testcontainers. Call `stop()` when done (it is also run if the process exits first).
 */
export async function startDtmStack(options: DtmStackOptions = {}): Promise<DtmStack> {
  const store = parseStore(options.store);
  const request = requestedBackend(options.backend);
  const log = options.log ?? (() => {});
  const backend = await chooseBackend(request, () => dockerEngine());
  log(`[testkit] backend ${backend} (requested ${request}), store ${store}`);
  const shared = readSharedDtmConfig();
  const stopTimeoutMs = options.stopTimeoutMs ?? 5000;
  if (backend === 'docker') {
    if (options.etcdAuth) throw new TestkitError('etcdAuth needs the local backend; pass backend: "local"');
    return startDocker({ store, shared, log, stopTimeoutMs, timeoutMs: options.timeoutMs ?? DOCKER_TIMEOUT_MS });
  }
  const deadline = Date.now() + (options.timeoutMs ?? LOCAL_TIMEOUT_MS);
  for (let attempt = 1; ; attempt++) {
    try {
      return await startLocal({
        store,
        shared,
        log,
        stopTimeoutMs,
        timeoutMs: Math.max(1000, deadline - Date.now()),
        mysql: options.mysql ?? DB_SH_MYSQL,
        redis: options.redis ?? DB_SH_REDIS,
        etcdBin: options.etcdBin,
        dtmBin: options.dtmBin,
        etcdAuth: options.etcdAuth,
      });
    } catch (err) {
      if (!(err instanceof PortClash) || attempt >= PORT_ATTEMPTS || Date.now() >= deadline) {
        throw err instanceof PortClash ? (err.cause ?? err) : err;
      }
      log(`[testkit] ${err.message}; retrying with other ports`);
    }
  }
}
