// Where the testkit finds what it runs: dtm's shared config and MySQL schema (files), and the etcd and dtm binaries.
import { accessSync, constants, existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { TestkitError } from './errors.ts';

/** The dtm release the fixture is written against (its config keys, its storage schema). */
export const DTM_VERSION = 'v1.19.0';

/** The package's root: src/ (this repository) or dist/ (an installed package) is one level down. */
const PKG_ROOT = join(import.meta.dirname, '..');

/** This repository's root when the testkit runs from its sources here; undefined in an installed package. */
const REPO_ROOT = ((): string | undefined => {
  const root = join(PKG_ROOT, '..', '..');
  return existsSync(join(root, 'infra', 'dtm', 'config.yml')) && existsSync(join(root, 'libs', 'testkit'))
    ? root
    : undefined;
})();

/**
 * A file the fixture reads: in this repository the one the other stacks use too (`infra/…`, so there is one place
 * to change it); in an installed package the copy `npm run pack` put into its `assets/`.
 */
function sharedFile(repoPath: string, asset: string): string {
  return REPO_ROOT ? join(REPO_ROOT, repoPath) : join(PKG_ROOT, 'assets', asset);
}

/** dtm settings shared by the local and compose stacks (driver, timeouts, …); the fixture overrides only addresses. */
export const SHARED_DTM_CONFIG = sharedFile('infra/dtm/config.yml', 'dtm-config.yml');

/** dtm's MySQL storage schema, as the compose stack applies it. */
export const MYSQL_STORAGE_DDL = sharedFile('infra/mysql/initdb/01-dtm-storage.sql', 'dtm-mysql-storage.sql');

/** Where this repository's `npm run setup` leaves dtm: `.cache/bin/dtm`, and a per-user copy. */
export function cachedDtmBins(env: NodeJS.ProcessEnv = process.env): string[] {
  const user = join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'dtm-gozero-ts', `dtm-${DTM_VERSION}`);
  return [...(REPO_ROOT ? [join(REPO_ROOT, '.cache', 'bin', 'dtm')] : []), user];
}

export function executable(file: string): boolean {
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

/** How to get each binary, for the error that names a missing one (the README has the same commands). */
export const INSTALL_HINTS: Readonly<Record<'etcd' | 'dtm', string>> = {
  etcd: 'etcd 3.4+: on Debian/Ubuntu `sudo apt-get install etcd-server`, or a release from github.com/etcd-io/etcd',
  dtm:
    `dtm ${DTM_VERSION}: build it with Go (see the testkit README, "Binaries"): \`go mod init b && go get ` +
    `github.com/dtm-labs/dtm@${DTM_VERSION} && go build -ldflags=-checklinkname=0 -o ~/.local/bin/dtm github.com/dtm-labs/dtm\``,
};

/**
 * The etcd and dtm binaries of the local backend. Each is looked for, in order: the option (`etcdBin`, `dtmBin`),
 * the environment (`ETCD_BIN`, `DTM_BIN`), `PATH`, and for dtm this repository's cache (`npm run setup`). A binary
 * given explicitly (option or env) must exist; there is no falling back past it.
 */
export function localBinaries(
  opts: { etcdBin?: string | undefined; dtmBin?: string | undefined } = {},
  env: NodeJS.ProcessEnv = process.env,
): { etcd: string | undefined; dtm: string | undefined; missing: string[] } {
  const missing: string[] = [];
  const find = (name: 'etcd' | 'dtm', wanted: string | undefined, cached: string[]): string | undefined => {
    if (wanted) {
      if (executable(wanted)) return wanted;
      missing.push(`${name} (${wanted} is not an executable)`);
      return undefined;
    }
    const found = onPath(name, env.PATH) ?? cached.find(executable);
    if (!found)
      missing.push(cached.length ? `${name} (not on PATH, nor in ${cached.join(', ')})` : `${name} (not on PATH)`);
    return found;
  };
  const etcd = find('etcd', opts.etcdBin ?? env.ETCD_BIN, []);
  const dtm = find('dtm', opts.dtmBin ?? env.DTM_BIN, cachedDtmBins(env));
  return { etcd, dtm, missing };
}

/** The error for missing binaries: which ones, why, and how to install each. */
export function missingBinariesError(missing: string[]): TestkitError {
  const hints = (['etcd', 'dtm'] as const).filter((n) => missing.some((m) => m.startsWith(`${n} `)));
  return new TestkitError(
    `the local backend needs the etcd and dtm binaries; missing: ${missing.join(', ')}. Install ${hints
      .map((n) => INSTALL_HINTS[n])
      .join('; ')}; or pass etcdBin / dtmBin, or set ETCD_BIN / DTM_BIN.`,
  );
}
