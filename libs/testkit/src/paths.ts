import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The repository root: the fixture reads the project's shared dtm config and DDL from there. */
export const REPO_ROOT = join(import.meta.dirname, '..', '..', '..');

/** dtm settings shared by the local and compose stacks (driver, timeouts, …); the fixture overrides only addresses. */
export const SHARED_DTM_CONFIG = join(REPO_ROOT, 'infra/dtm/config.yml');

/** dtm's MySQL storage schema, as the compose stack applies it. */
export const MYSQL_STORAGE_DDL = join(REPO_ROOT, 'infra/mysql/initdb/01-dtm-storage.sql');

/** The compose file whose image tags the docker backend uses. */
export const COMPOSE_FILE = join(REPO_ROOT, 'docker-compose.yml');

/** Where `npm run setup` puts the dtm binary. */
export const DEFAULT_DTM_BIN = join(REPO_ROOT, '.cache/bin/dtm');

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Full path of `name` on PATH, or undefined. */
export function onPath(name: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const f = join(dir, name);
    if (executable(f)) return f;
  }
  return undefined;
}

/** The etcd and dtm binaries of the local backend: explicit option, then env (ETCD_BIN, DTM_BIN), then defaults. */
export function localBinaries(
  opts: { etcdBin?: string | undefined; dtmBin?: string | undefined } = {},
  env: NodeJS.ProcessEnv = process.env,
): { etcd: string | undefined; dtm: string | undefined; missing: string[] } {
  const etcdWanted = opts.etcdBin ?? env.ETCD_BIN;
  const dtmWanted = opts.dtmBin ?? env.DTM_BIN ?? DEFAULT_DTM_BIN;
  const etcd = etcdWanted ? (executable(etcdWanted) ? etcdWanted : undefined) : onPath('etcd', env.PATH);
  const dtm = executable(dtmWanted) ? dtmWanted : undefined;
  const missing: string[] = [];
  if (!etcd) missing.push(etcdWanted ? `etcd (${etcdWanted} is not an executable)` : 'etcd (not on PATH)');
  if (!dtm) missing.push(`dtm (${dtmWanted} is not an executable)`);
  return { etcd, dtm, missing };
}
