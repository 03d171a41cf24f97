import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, root } from '@dtm-gozero/devkit';
import { copyCheckout, docker, projectLeftovers as leftovers, listeners, skipReason } from '@dtm-gozero/devkit/docker';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

// docker-compose.yml for real: `docker compose up --build` in a clean copy of the checkout, on this machine's Docker
// (npm run docker:setup; images pulled or rebuilt locally). It uses the fixed host ports of the local stack, so
// run it alone (`flock /tmp/fixed-ports.lock npx vitest run test/integration/compose.int.test.ts`).

const PROJECT = 'dtm-gozero-ts';
const PORTS = { etcd: [2379, 2380], mysql: [3307], dtm: [36789, 36790], trans: [50081] } as const;
const ALL_PORTS = Object.values(PORTS).flat();
const SKIP = skipReason('the compose stack tests');

const work = mkdtempSync(join(tmpdir(), 'compose-checkout-'));
let up: ChildProcess | undefined;
let upOut = '';
let t0 = 0;

const compose = (args: string[], timeout = 120_000) => docker(['compose', ...args], { cwd: work, timeout });

const projectLeftovers = () => leftovers(PROJECT);

const busyPorts = (): number[] => ALL_PORTS.filter((p) => listeners().has(p));

beforeAll(() => {
  if (SKIP) return;
  const busy = busyPorts();
  if (busy.length > 0) {
    throw new Error(
      `ports ${busy.join(', ')} are taken (the local stack? \`npm run stack:down\`); the compose stack needs them`,
    );
  }
  copyCheckout(root, work);
});

afterAll(() => {
  if (!SKIP) {
    up?.kill('SIGKILL');
    compose(['down', '-v', '--remove-orphans', '-t', '5'], 120_000);
  }
  rmSync(work, { recursive: true, force: true });
});

interface Event {
  Action: string;
  Actor: { Attributes: Record<string, string> };
  timeNano: number;
}

/** When each compose service's container started and first became healthy (docker events since the test began). */
function timeline(): Record<string, { start?: number; healthy?: number; die?: number }> {
  const r = docker([
    'events',
    '--since',
    String(Math.floor(t0 / 1000) - 1),
    '--until',
    String(Math.ceil(Date.now() / 1000)),
    '--filter',
    `label=com.docker.compose.project=${PROJECT}`,
    '--filter',
    'type=container',
    '--format',
    '{{json .}}',
  ]);
  const out: Record<string, { start?: number; healthy?: number; die?: number }> = {};
  for (const line of r.stdout.split('\n').filter(Boolean)) {
    const e = JSON.parse(line) as Event;
    const svc = e.Actor.Attributes['com.docker.compose.service'] ?? '?';
    out[svc] ??= {};
    const t = out[svc];
    if (e.Action === 'start') t.start ??= e.timeNano;
    if (e.Action === 'health_status: healthy') t.healthy ??= e.timeNano;
    if (e.Action === 'die') t.die ??= e.timeNano;
  }
  return out;
}

async function dtmStatus(gid: string): Promise<string | undefined> {
  const res = await fetch(`http://127.0.0.1:36789/api/dtmsvr/query?gid=${gid}`, { signal: AbortSignal.timeout(5000) });
  const body = (await res.json()) as { transaction?: { status?: string } };
  return body.transaction?.status;
}

const TRANSCRIPT = [
  'transfer out 30 cents from 1',
  'transfer in 30 cents to 2',
  'transfer out 30 cents from 1',
  'transfer out 30 cents from 1',
];

describe.skipIf(SKIP)('docker compose, for real', () => {
  test('up --build from a clean checkout: healthy in order, the app exits 0, the transcript in trans', {
    timeout: 900_000,
  }, async () => {
    // The stack's ports lie in the ephemeral range, where another process on this shared machine (a client socket,
    // a test's "free" port) can hold one for a moment: the preflight then stops `up`, naming it. Once, that is
    // retried after the ports are free again; a port that stays taken fails the test with the preflight's words.
    let exit: number | undefined;
    for (let attempt = 1; exit === undefined; attempt++) {
      await eventually(() => (busyPorts().length === 0 ? true : undefined), 30_000, 'compose ports free', 500).catch(
        () => {},
      );
      t0 = Date.now();
      upOut = '';
      const child = spawn('docker', ['compose', 'up', '--build'], {
        cwd: work,
        env: { ...process.env, DOCKER_BUILDKIT: '0' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      up = child;
      child.stdout?.on('data', (d: Buffer) => (upOut += d.toString()));
      child.stderr?.on('data', (d: Buffer) => (upOut += d.toString()));
      // 'app' with its exit code, or 'up' when `docker compose up` itself ended first.
      const end = await eventually(
        () => {
          const r = docker(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', `${PROJECT}-app-1`]);
          const [status, code] = r.stdout.trim().split(' ');
          if (status === 'exited') return { what: 'app', code: Number(code) };
          return child.exitCode !== null ? { what: 'up', code: child.exitCode } : undefined;
        },
        840_000,
        'the app container exiting',
        2000,
      ).catch((err: Error) => {
        throw new Error(`${err.message}; compose says:\n${upOut.slice(-4000)}`);
      });
      if (end.what === 'app') exit = end.code;
      else if (attempt === 1 && /preflight: port \d+ .* is already in use/.test(upOut)) {
        console.warn(`[compose] a port was taken at start, retrying once:\n${upOut.slice(-1500)}`);
        compose(['down', '-v', '-t', '5']);
      } else throw new Error(`docker compose up exited (${end.code}) before the app ran:\n${upOut.slice(-4000)}`);
    }
    expect(exit, upOut.slice(-4000)).toBe(0);

    // Each service started only after what it depends on was healthy (or, for preflight, completed).
    const tl = timeline();
    for (const svc of ['etcd', 'mysql', 'dtm', 'trans']) expect(tl[svc]?.healthy, svc).toBeDefined();
    const after = (svc: string, dep: number | undefined) =>
      expect(tl[svc]?.start ?? 0).toBeGreaterThan(dep ?? Infinity);
    after('etcd', tl.preflight?.die);
    after('mysql', tl.preflight?.die);
    after('dtm', tl.etcd?.healthy);
    after('dtm', tl.mysql?.healthy);
    after('trans', tl.etcd?.healthy);
    after('app', tl.dtm?.healthy);
    after('app', tl.trans?.healthy);

    const appLines = compose(['logs', '--no-log-prefix', 'app']).stdout.trim().split('\n');
    const gids = appLines.map((l) => /^(msg|tcc) (\S+) succeed$/.exec(l.trim())?.[2]).filter(Boolean) as string[];
    expect(gids, appLines.join('\n')).toHaveLength(2);
    const trans = compose(['logs', '--no-log-prefix', 'trans']).stdout;
    expect(trans.match(/transfer (out|in) 30 cents (from|to) \d/g)).toEqual(TRANSCRIPT);
    // dtm (store: MariaDB) reports both transactions as finished.
    for (const gid of gids) expect(await dtmStatus(gid)).toBe('succeed');
  });

  test('dtm serves its embedded admin UI, offline', async () => {
    const res = await fetch('http://127.0.0.1:36789/', { signal: AbortSignal.timeout(5000) });
    const html = await res.text();
    expect(res.status).toBe(200);
    expect(html).toContain('<div id="app">');
    const asset = /src="(\/assets\/index\.[0-9a-f]+\.js)"/.exec(html)?.[1];
    expect(asset, html).toBeDefined();
    expect((await fetch(`http://127.0.0.1:36789${asset}`)).status).toBe(200);
    expect(compose(['logs', 'dtm']).stdout).toContain("admin is served from dir 'admin/dist/'");
  });

  test('what listens where: every server on loopback except dtm, on all interfaces (as the compose file says)', () => {
    const l = listeners();
    for (const p of [...PORTS.etcd, ...PORTS.mysql, ...PORTS.trans])
      expect(l.get(p), `port ${p}`).toEqual(['127.0.0.1']);
    for (const p of PORTS.dtm) {
      expect(
        l.get(p)?.every((a) => a === '::' || a === '0.0.0.0'),
        `port ${p}: ${l.get(p)}`,
      ).toBe(true);
    }
  });

  test('npm run app from the host works against the compose stack', { timeout: 120_000 }, () => {
    const r = spawnSync('npm', ['run', '--silent', 'app'], { cwd: root, encoding: 'utf8', timeout: 100_000 });
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual([
      expect.stringMatching(/^msg \S+ succeed$/),
      expect.stringMatching(/^tcc \S+ succeed$/),
    ]);
    expect(compose(['logs', 'trans']).stdout.match(/transfer (out|in) 30 cents/g)).toHaveLength(8);
  });

  test('down -v leaves no container, volume or listener behind', { timeout: 180_000 }, async () => {
    up?.kill('SIGINT');
    const down = compose(['down', '-v', '-t', '10'], 150_000);
    expect(down.status, down.stderr).toBe(0);
    expect(projectLeftovers()).toEqual({ containers: '', volumes: '' });
    await eventually(() => (busyPorts().length === 0 ? true : undefined), 10_000, 'compose ports free', 250).catch(
      () => {},
    );
    expect(busyPorts()).toEqual([]);
  });

  test('a taken port: up stops at the preflight, whose log names the fix; nothing else starts', {
    timeout: 300_000,
  }, async () => {
    const server: Server = createServer();
    await new Promise<void>((r) => server.listen(PORTS.trans[0], '127.0.0.1', r));
    try {
      const r = compose(['up', '-d'], 280_000);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain('service "preflight" didn\'t complete successfully: exit 1');
      expect(compose(['logs', '--no-log-prefix', 'preflight']).stdout).toContain(
        'preflight: port 50081 (trans, 127.0.0.1:50081) is already in use: stop `npm run trans` (or `npm start`)',
      );
      const running = docker(['ps', '-q', '--filter', `label=com.docker.compose.project=${PROJECT}`]).stdout.trim();
      expect(running).toBe('');
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
      compose(['down', '-v', '-t', '5']);
    }
    expect(projectLeftovers()).toEqual({ containers: '', volumes: '' });
  });

  test('up while the local stack runs: stops at the preflight, naming `npm run stack:down`', {
    timeout: 300_000,
  }, () => {
    const stack = (cmd: string) =>
      spawnSync('bash', ['scripts/stack.sh', cmd], {
        cwd: work,
        encoding: 'utf8',
        timeout: 60_000,
        env: { ...process.env, DTM_BIN: join(root, '.cache/bin/dtm') },
      });
    const started = stack('up');
    try {
      expect(started.status, started.stderr).toBe(0);
      const r = compose(['up', '-d'], 280_000);
      expect(r.status).not.toBe(0);
      const log = compose(['logs', '--no-log-prefix', 'preflight']).stdout;
      for (const line of [
        'preflight: port 2379 (etcd, 127.0.0.1:2379) is already in use: the local stack runs: `npm run stack:down`',
        'preflight: port 36789 (dtm, *:36789) is already in use: the local stack runs: `npm run stack:down`',
      ]) {
        expect(log).toContain(line);
      }
    } finally {
      stack('down');
      compose(['down', '-v', '-t', '5']);
    }
    expect(projectLeftovers()).toEqual({ containers: '', volumes: '' });
    expect(busyPorts()).toEqual([]);
  });
});
