// Readiness checks shared by both backends; each call has its own short timeout, each wait a deadline.

const CALL_MS = 2000;

/** Thrown by `waitUntil` when the deadline passes; `last` is the last check's error, if any. */
export class WaitTimeout extends Error {
  override name = 'WaitTimeout';
}

/**
 * Polls `check` until it returns true; rejects after `ms` with `what` in the message, or at once when
 * `abort()` returns a reason (e.g. the process being waited for has exited).
 */
export async function waitUntil(
  check: () => Promise<boolean>,
  ms: number,
  what: string,
  abort: () => string | undefined = () => undefined,
  intervalMs = 100,
): Promise<void> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    const reason = abort();
    if (reason) throw new Error(`${what}: ${reason}`);
    try {
      if (await check()) return;
      last = undefined;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= end) {
      const detail = last instanceof Error ? ` (last error: ${last.message})` : '';
      throw new WaitTimeout(`${what}: not reached within ${ms} ms${detail}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

async function getJson(url: string, init: RequestInit = {}): Promise<unknown> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(CALL_MS) });
  if (!res.ok) return undefined;
  return res.json();
}

/** etcd's `GET /health` says `{"health":"true"}`. */
export async function etcdHealthy(etcdUrl: string): Promise<boolean> {
  const body = (await getJson(`${etcdUrl}/health`)) as { health?: string } | undefined;
  return body?.health === 'true';
}

/** dtm's `GET /api/ping` says `{"msg":"pong"}`. */
export async function dtmPing(dtmHttp: string): Promise<boolean> {
  const body = (await getJson(`${dtmHttp}/api/ping`)) as { msg?: string } | undefined;
  return body?.msg === 'pong';
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');

/** Key/value pairs under `prefix` (e.g. `dtmservice/`), read through etcd's v3 JSON gateway (etcd 3.4 and 3.5). */
export async function etcdPrefix(
  etcdUrl: string,
  prefix: string,
  auth?: { user: string; password: string },
): Promise<Record<string, string>> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (auth) headers.authorization = await etcdToken(etcdUrl, auth);
  // range_end = prefix with its last byte + 1: every key that starts with prefix.
  const end = Buffer.from(prefix);
  end[end.length - 1] = (end[end.length - 1] ?? 0) + 1;
  const res = await fetch(`${etcdUrl}/v3/kv/range`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ key: b64(prefix), range_end: end.toString('base64') }),
    signal: AbortSignal.timeout(CALL_MS),
  });
  if (!res.ok) throw new Error(`etcd range ${prefix}: HTTP ${res.status}`);
  const body = (await res.json()) as { kvs?: { key: string; value?: string }[] };
  const out: Record<string, string> = {};
  for (const kv of body.kvs ?? []) {
    out[Buffer.from(kv.key, 'base64').toString()] = Buffer.from(kv.value ?? '', 'base64').toString();
  }
  return out;
}

/** dtm's key `dtmservice/<lease>` is in that etcd with value `endPoint`. */
export async function dtmRegistered(
  etcdUrl: string,
  key: string,
  endPoint: string,
  auth?: { user: string; password: string },
): Promise<boolean> {
  return Object.values(await etcdPrefix(etcdUrl, `${key}/`, auth)).includes(endPoint);
}

/** A token of etcd's v3 gateway for an account (sent as the `authorization` header). */
async function etcdToken(etcdUrl: string, auth: { user: string; password: string }): Promise<string> {
  const res = await fetch(`${etcdUrl}/v3/auth/authenticate`, {
    method: 'POST',
    body: JSON.stringify({ name: auth.user, password: auth.password }),
    signal: AbortSignal.timeout(CALL_MS),
  });
  if (!res.ok) throw new Error(`etcd authenticate: HTTP ${res.status}`);
  return ((await res.json()) as { token: string }).token;
}
