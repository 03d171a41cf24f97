import type { Backend, BackendRequest } from './backend-types.ts';
import { testcontainersDefaults } from './docker.ts';
import { TestkitError } from './errors.ts';

const REQUESTS: readonly string[] = ['auto', 'local', 'docker'];

/** The environment variable that overrides `backend: 'auto'`. */
export const BACKEND_ENV = 'DTM_TESTKIT_BACKEND';

/** Whether a Docker engine answers, and if not, why. */
export type EngineStatus = { ok: true } | { ok: false; reason: string };

function parseRequest(v: string, from: string): BackendRequest {
  if (REQUESTS.includes(v)) return v as BackendRequest;
  throw new TestkitError(`unknown backend ${JSON.stringify(v)} in ${from}; valid: ${REQUESTS.join(', ')}`);
}

/**
 * The backend asked for: an explicit `local`/`docker` option wins, then `DTM_TESTKIT_BACKEND`, then `auto`.
 * An empty env value counts as unset.
 */
export function requestedBackend(option: string | undefined, env: NodeJS.ProcessEnv = process.env): BackendRequest {
  const opt = option === undefined ? 'auto' : parseRequest(option, 'options.backend');
  if (opt !== 'auto') return opt;
  const fromEnv = env[BACKEND_ENV];
  return fromEnv ? parseRequest(fromEnv, BACKEND_ENV) : 'auto';
}

/** Resolves a request against the engine check (called only when the answer depends on it). */
export async function chooseBackend(request: BackendRequest, engine: () => Promise<EngineStatus>): Promise<Backend> {
  if (request === 'local') return 'local';
  const status = await engine();
  if (status.ok) return 'docker';
  if (request === 'auto') return 'local';
  throw new TestkitError(
    `backend 'docker' was requested but no Docker engine answers (${status.reason}). ` +
      `Start Docker (or point DOCKER_HOST at a running engine), or use the local backend ` +
      `(backend: 'local' or ${BACKEND_ENV}=local), which runs local etcd and dtm binaries (see the testkit README, "Binaries").`,
  );
}

let engineCheck: Promise<EngineStatus> | undefined;

/**
 * Asks testcontainers whether a container runtime answers (its own strategies: DOCKER_HOST, the
 * ~/.testcontainers.properties file, the default and rootless sockets), with a deadline; cached per process.
 */
export function dockerEngine(timeoutMs = 5000): Promise<EngineStatus> {
  engineCheck ??= (async (): Promise<EngineStatus> => {
    let timer: NodeJS.Timeout | undefined;
    testcontainersDefaults();
    try {
      const { getContainerRuntimeClient } = await import('testcontainers');
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      });
      await Promise.race([getContainerRuntimeClient(), timeout]);
      return { ok: true };
    } catch (err) {
      return { ok: false, reason: err instanceof Error ? err.message : String(err) };
    } finally {
      clearTimeout(timer);
    }
  })();
  return engineCheck;
}
