// Port check before the compose stack starts (docker-compose.yml's one-shot `preflight` service). Every service
// runs with network_mode: host, so a port that the local stack, `npm run trans` or another MySQL already holds
// makes a container fail with a bare "address already in use" and restart over and over. This script tries to
// listen on each port as its service will, and on any failure prints one line per port (port, service, fix)
// and exits 1. If all are free it prints one line and exits 0.
//   node infra/docker/port-preflight.ts [--own-etcd=URL --own-etcd-name=NAME] SERVICE=HOST:PORT ...
// HOST:PORT is written as the service binds it: 127.0.0.1:2379 for loopback, :36789 for all interfaces (as Go's
// net.Listen binds ":36789": IPv6 and IPv4, falling back to IPv4 only).
// --own-etcd: compose restarts this one-shot container on every `docker compose up` and `docker compose run`,
// also while the stack already runs and holds these ports itself. If the etcd that answers on URL has a member
// named NAME (compose's etcd, named differently from the local stack's), the stack is already up: exit 0.
// --set-flag=FILE / --clear-flag=FILE, once the ports are free (or the stack already runs): create or remove FILE.
// The compose file's profile flag: preflight clears it on every up, the `observe` profile's preflight sets it, and
// trans and the app read it (infra/docker/observe-profile.sh) — a profile cannot change another service's settings.
// Node runs this file directly (erasable TypeScript, node: modules only), on the host or in the runtime image.
import { rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { parseArgs } from 'node:util';

interface Need {
  service: string;
  host: string;
  port: number;
}

/** How to free a port, by the service that needs it. */
const FIXES: Record<string, string> = {
  etcd: 'the local stack runs: `npm run stack:down` (or stop `npm start`)',
  dtm: 'the local stack runs: `npm run stack:down` (or stop `npm start`)',
  trans: 'stop `npm run trans` (or `npm start`)',
  'trans-devserver': 'stop `npm start -- --observe` (or the trans whose DevServer listens there)',
  jaeger: 'stop `npm start -- --observe` (or the Jaeger that listens there)',
  prometheus: 'stop `npm start -- --observe` (or the Prometheus that listens there)',
  mysql: 'another MySQL listens there: set DTM_MYSQL_PORT to a free port, e.g. `DTM_MYSQL_PORT=3308 docker compose up`',
};

function parseNeed(arg: string): Need {
  const m = /^([\w-]+)=(.*):(\d+)$/.exec(arg);
  const port = Number(m?.[3]);
  if (!m || !(port > 0 && port < 65536)) throw new Error(`bad argument ${JSON.stringify(arg)}: want SERVICE=HOST:PORT`);
  return { service: m[1] as string, host: (m[2] as string).replace(/^\[(.*)\]$/, '$1'), port };
}

/** Listens on host:port and closes again; resolves with the error code, or undefined when the port is free. */
function tryListen(host: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(undefined)));
  });
}

/** Why the service could not listen, or undefined. An empty host is every interface, as for Go's ":port". */
async function blocked({ host, port }: Need): Promise<string | undefined> {
  if (host !== '' && host !== '0.0.0.0' && host !== '::') return tryListen(host, port);
  // Dual-stack "::" collides with any IPv4 or IPv6 listener on the port; without IPv6, 0.0.0.0 as Go does.
  const code = await tryListen('::', port);
  return code === 'EAFNOSUPPORT' || code === 'EADDRNOTAVAIL' ? tryListen('0.0.0.0', port) : code;
}

/** True when the etcd at url answers and has a member with this name. */
async function ownEtcdAnswers(url: string, name: string): Promise<boolean> {
  try {
    const res = await fetch(new URL('/v3/cluster/member/list', url), {
      method: 'POST',
      body: '{}',
      signal: AbortSignal.timeout(2000),
    });
    const body = (await res.json()) as { members?: { name?: string }[] };
    return res.ok && (body.members ?? []).some((m) => m.name === name);
  } catch {
    return false;
  }
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    options: {
      'own-etcd': { type: 'string' },
      'own-etcd-name': { type: 'string' },
      'set-flag': { type: 'string' },
      'clear-flag': { type: 'string' },
    },
    allowPositionals: true,
  });
  const needs = positionals.map(parseNeed);
  if (needs.length === 0) throw new Error('no ports given: SERVICE=HOST:PORT ...');
  const flags = (): void => {
    if (values['clear-flag']) rmSync(values['clear-flag'], { force: true });
    if (values['set-flag']) writeFileSync(values['set-flag'], 'set by the port preflight of docker-compose.yml\n');
  };

  const problems: string[] = [];
  for (const [i, need] of needs.entries()) {
    const other = needs.slice(0, i).find((n) => n.port === need.port && n.service !== need.service);
    if (other) {
      problems.push(
        `port ${need.port} is needed by both ${other.service} and ${need.service}: set DTM_MYSQL_PORT to another port`,
      );
      continue;
    }
    // One at a time: a service that needs the port on two addresses must not collide with itself.
    const code = await blocked(need);
    if (code === undefined) continue;
    const where = `${need.service}, ${need.host === '' ? '*' : need.host}:${need.port}`;
    const fix = FIXES[need.service] ?? 'stop the process that listens there';
    problems.push(
      code === 'EADDRINUSE'
        ? `port ${need.port} (${where}) is already in use: ${fix}`
        : `port ${need.port} (${where}) cannot be opened (${code})`,
    );
  }
  if (problems.length === 0) {
    console.log(`preflight: ports ${[...new Set(needs.map((n) => n.port))].join(', ')} are free`);
    flags();
    return 0;
  }
  const ownUrl = values['own-etcd'];
  const ownName = values['own-etcd-name'];
  if (ownUrl && ownName && (await ownEtcdAnswers(ownUrl, ownName))) {
    console.log(`preflight: this compose stack already runs (its etcd ${ownName} answers on ${ownUrl}); not checked`);
    flags();
    return 0;
  }
  for (const p of problems) console.error(`preflight: ${p}`);
  console.error(
    'preflight: the compose stack uses the host network (network_mode: host), so these ports must be free; ' +
      'if an earlier start of this compose stack still holds them, run `docker compose down` (docs/docker.md)',
  );
  return 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`preflight: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(2);
  },
);
