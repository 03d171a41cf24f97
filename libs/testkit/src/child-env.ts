// Only these reach etcd and dtm: both read settings from the environment (ETCD_*, STORE_*, MICRO_SERVICE_*,
// IS_DOCKER, …), which must not leak from the test's environment into a stack.
const ENV_PASS = ['PATH', 'HOME', 'TMPDIR', 'TZ', 'SYSTEMROOT'];
export function childEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const k of ENV_PASS) if (env[k] !== undefined) out[k] = env[k];
  return out;
}
