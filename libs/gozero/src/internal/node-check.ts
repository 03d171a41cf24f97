// Imported first by index.ts, so it runs before any other module of the package (or its dependencies) does: on a
// Node older than `engines` allows, one clear error instead of a failure somewhere inside.

/** The oldest Node this package runs on (package.json `engines` says the same; a test keeps them equal). */
export const MIN_NODE: readonly [number, number] = [22, 12];

/** Throws when `version` (`process.versions.node`) is older than MIN_NODE. */
export function checkNodeVersion(version: string): void {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  if (major > MIN_NODE[0] || (major === MIN_NODE[0] && minor >= MIN_NODE[1])) return;
  throw new Error(
    `@dtm-gozero/gozero needs Node.js >= ${MIN_NODE.join('.')}, but this is Node.js ${version}; upgrade Node (e.g. to 24 LTS)`,
  );
}

checkNodeVersion(process.versions.node);
