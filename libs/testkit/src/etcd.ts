import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { childEnv } from './child-env.ts';
import { TestkitError } from './errors.ts';
import { etcdArgs } from './etcd-args.ts';
import { INSTALL_HINTS, onPath } from './paths.ts';
import { freePorts, releasePorts } from './ports.ts';
import { waitUntil } from './probe.ts';
import { exitReason, restartableServer, spawnServer } from './server-process.ts';

const run = promisify(execFile);
const CERTS_SCRIPT = join(import.meta.dirname, '..', 'scripts', 'etcd-certs.sh');

/** Options of `startEtcd`. */
export interface EtcdOptions {
  /** Enable etcd authentication with this root account (go-zero's Etcd.User / Etcd.Pass). */
  auth?: { user: string; password: string } | undefined;
  /** Serve TLS with client-certificate authentication; certificates are generated into a temp dir. */
  tls?: boolean | undefined;
  /** Extra etcd flags. */
  extraArgs?: string[] | undefined;
  /** Deadline of a start, in ms (default 20 s). */
  timeoutMs?: number | undefined;
  /** Receives etcd's output lines, prefixed `[etcd]`. */
  log?: ((line: string) => void) | undefined;
  /** The etcd binary (default: env ETCD_BIN, else `etcd` on PATH). */
  etcdBin?: string | undefined;
}

/** The TLS files of an `EtcdServer` (go-zero's names). */
export interface EtcdTlsFiles {
  CACertFile: string;
  CertFile: string;
  CertKeyFile: string;
  /** A CA that did not sign etcd's certificate, for "mismatched" tests. */
  otherCACertFile: string;
}

/** An etcd of a test's own, which the test may kill, start again (with its data or wiped) and compact. */
export interface EtcdServer {
  /** go-zero's `Etcd.Hosts`: `['127.0.0.1:<port>']`. */
  endpoints: string[];
  /** `http(s)://127.0.0.1:<port>`. */
  url: string;
  auth?: { user: string; password: string } | undefined;
  tls?: EtcdTlsFiles | undefined;
  /** go-zero `EtcdConf` fields for `key`: Hosts, Key, and User/Pass and the TLS files when enabled. */
  conf(key: string): {
    Hosts: string[];
    Key: string;
    User?: string;
    Pass?: string;
    CertFile?: string;
    CertKeyFile?: string;
    CACertFile?: string;
  };
  /** Sends `signal` (default SIGKILL) and waits until the process is gone. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts etcd again on the same ports; `wipe` first removes its data (as after a restore to nothing). */
  restart(options?: { wipe?: boolean }): Promise<void>;
  /** Runs `etcdctl <args>` against this etcd (with its credentials) and returns stdout. */
  etcdctl(...args: string[]): Promise<string>;
  /** Stops etcd and removes its data and certificates; safe to call more than once. */
  stop(): Promise<void>;
}

/**
 * Starts a one-member etcd on free loopback ports, optionally with authentication (a root user, auth enabled)
 * and/or TLS with client certificates (made by `scripts/etcd-certs.sh` into a temp dir), for tests that need
 * to stop, kill, wipe or compact etcd — which a shared one must never be.
 */
export async function startEtcd(options: EtcdOptions = {}): Promise<EtcdServer> {
  const bin = options.etcdBin ?? process.env.ETCD_BIN ?? onPath('etcd');
  const etcdctlBin = onPath('etcdctl');
  if (!bin || !etcdctlBin) {
    const missing = [bin ? '' : 'etcd', etcdctlBin ? '' : 'etcdctl'].filter(Boolean).join(' and ');
    throw new TestkitError(
      `startEtcd needs etcd and etcdctl; missing: ${missing}. Install ${INSTALL_HINTS.etcd} (Debian's etcd-client has etcdctl), or set ETCD_BIN`,
    );
  }
  const log = options.log ?? (() => undefined);
  const timeoutMs = options.timeoutMs ?? 20_000;
  const dir = mkdtempSync(join(tmpdir(), 'testkit-etcd-'));
  const [clientPort, peerPort] = (await freePorts(2)) as [number, number];
  const scheme = options.tls ? 'https' : 'http';
  const endpoint = `127.0.0.1:${clientPort}`;
  const url = `${scheme}://${endpoint}`;
  let tls: EtcdTlsFiles | undefined;
  if (options.tls) {
    const certs = join(dir, 'certs');
    await run('bash', [CERTS_SCRIPT, certs]);
    tls = {
      CACertFile: join(certs, 'ca.pem'),
      CertFile: join(certs, 'client.pem'),
      CertKeyFile: join(certs, 'client-key.pem'),
      otherCACertFile: join(certs, 'other-ca.pem'),
    };
  }
  const args = etcdArgs({ name: 'testkit', dataDir: join(dir, 'data'), clientPort, peerPort }).map((a) =>
    a.startsWith('--listen-client-urls=') || a.startsWith('--advertise-client-urls=')
      ? a.replace('http://', `${scheme}://`)
      : a,
  );
  if (tls) {
    const certs = join(dir, 'certs');
    args.push(
      `--cert-file=${join(certs, 'server.pem')}`,
      `--key-file=${join(certs, 'server-key.pem')}`,
      `--trusted-ca-file=${tls.CACertFile}`,
      '--client-cert-auth',
    );
  }
  args.push(...(options.extraArgs ?? []));

  const etcd = restartableServer(() => spawnServer(bin, args, { cwd: dir, name: 'etcd', keep: 30, log }), dir);
  const ctlArgs = (): string[] => {
    const a = [`--endpoints=${url}`, '--dial-timeout=2s', '--command-timeout=3s'];
    if (tls) a.push(`--cacert=${tls.CACertFile}`, `--cert=${tls.CertFile}`, `--key=${tls.CertKeyFile}`);
    return a;
  };
  let authOn = false;
  const etcdctl = async (...cmd: string[]): Promise<string> => {
    const a = ctlArgs();
    if (authOn && options.auth) a.push(`--user=${options.auth.user}:${options.auth.password}`);
    const { stdout } = await run(etcdctlBin, [...a, ...cmd], {
      env: { ...childEnv(), ETCDCTL_API: '3' },
      timeout: 10_000,
    });
    return stdout;
  };
  const healthy = async (): Promise<boolean> => {
    if (!tls) {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
      return res.ok && ((await res.json()) as { health?: string }).health === 'true';
    }
    await etcdctl('endpoint', 'health');
    return true;
  };
  const waitHealthy = (): Promise<void> =>
    waitUntil(healthy, timeoutMs, `etcd at ${url} healthy`, () => exitReason(etcd.current()));
  const enableAuth = async (): Promise<void> => {
    if (!options.auth) return;
    const { user, password } = options.auth;
    await etcdctl('user', 'add', `${user}:${password}`);
    if (user !== 'root') await etcdctl('user', 'add', `root:${password}`);
    await etcdctl('user', 'grant-role', 'root', 'root');
    if (user !== 'root') await etcdctl('user', 'grant-role', user, 'root');
    await etcdctl('auth', 'enable');
    authOn = true;
  };

  let stopped = false;
  const kill = (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => etcd.kill(signal);
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
    releasePorts([clientPort, peerPort]);
    etcd.release();
  };

  try {
    const { proc } = etcd.start();
    log(`[testkit] started etcd (pid ${proc.pid}) on ${url}`);
    await waitHealthy();
    await enableAuth();
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    endpoints: [endpoint],
    url,
    auth: options.auth,
    tls,
    conf: (key) => ({
      Hosts: [endpoint],
      Key: key,
      ...(options.auth ? { User: options.auth.user, Pass: options.auth.password } : {}),
      ...(tls ? { CertFile: tls.CertFile, CertKeyFile: tls.CertKeyFile, CACertFile: tls.CACertFile } : {}),
    }),
    kill,
    restart: async ({ wipe = false } = {}) => {
      await kill();
      if (wipe) {
        rmSync(join(dir, 'data'), { recursive: true, force: true });
        authOn = false;
      }
      etcd.start();
      await waitHealthy();
      if (wipe) await enableAuth();
    },
    etcdctl,
    stop,
  };
}
