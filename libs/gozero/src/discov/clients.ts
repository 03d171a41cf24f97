import { readFileSync } from 'node:fs';
import { credentials as grpcCredentials } from '@grpc/grpc-js';
import { ConsecutiveBreaker, circuitBreaker, handleWhen, retry } from 'cockatiel';
import { Etcd3, type IOptions, isRecoverableError } from 'etcd3';
import type { EtcdConf } from '../conf/config.ts';
import { ConfigError } from '../conf/errors.ts';

/** Deadline for one etcd request (go-zero's RequestTimeout). */
export const ETCD_REQUEST_TIMEOUT_MS = 3000;
/** Time to establish a connection to etcd (go-zero uses 5 s; shorter here so a down etcd is reported fast). */
export const ETCD_DIAL_TIMEOUT_MS = 3000;
/**
 * Outer bound of one etcd request, kept by withTimeout: the request's own deadline plus a second, so etcd3's
 * deadline error (which names the cause) normally wins and this bound only catches a call that never settles.
 */
export const ETCD_WAIT_MS = ETCD_REQUEST_TIMEOUT_MS + 1000;
/** Outer bound of a lease grant, the first call of a registration: it may have to dial etcd first. */
export const ETCD_GRANT_WAIT_MS = ETCD_REQUEST_TIMEOUT_MS + 2000;
/** go-zero's coolDownInterval: the pause between two attempts of a failed etcd load or watch. */
export const COOL_DOWN_MS = 1000;

interface Account {
  user: string;
  pass: string;
}
interface TlsMaterial {
  ca: Buffer;
  key: Buffer;
  cert: Buffer;
  insecureSkipVerify: boolean;
}

// Like go-zero's discov/internal/accountmanager: credentials belong to a cluster (its sorted host list), so a
// resolver that only sees `etcd://hosts/key` finds the account the service's config registered for those hosts.
const accounts = new Map<string, Account>();
const tlsConfs = new Map<string, TlsMaterial>();
const clients = new Map<string, Etcd3>();

export function clusterKey(hosts: readonly string[]): string {
  return [...hosts].sort().join(',');
}

/** go-zero's `discov.RegisterAccount`: etcd clients for exactly these hosts authenticate as `user`. */
export function registerEtcdAccount(hosts: readonly string[], user: string, pass: string): void {
  accounts.set(clusterKey(hosts), { user, pass });
}

export interface EtcdTlsFiles {
  CertFile: string;
  CertKeyFile: string;
  CACertFile: string;
  InsecureSkipVerify?: boolean | undefined;
}

function readPem(setting: string, file: string, marker: RegExp): Buffer {
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(
      `Etcd.${setting} ${file}: cannot read it (${code ?? String(err)}); point it at an existing PEM file`,
      {
        cause: err,
      },
    );
  }
  if (!marker.test(data.toString('latin1'))) {
    throw new ConfigError(`Etcd.${setting} ${file}: not a PEM file of the expected kind; point it at the right file`);
  }
  return data;
}

/**
 * go-zero's `discov.RegisterTLS`: etcd clients for these hosts speak TLS with this client certificate. The
 * files are read now, so a missing or wrong file is an error at start-up naming the setting.
 */
export function registerEtcdTls(hosts: readonly string[], files: EtcdTlsFiles): void {
  tlsConfs.set(clusterKey(hosts), {
    cert: readPem('CertFile', files.CertFile, /-----BEGIN CERTIFICATE-----/),
    key: readPem('CertKeyFile', files.CertKeyFile, /-----BEGIN [A-Z ]*PRIVATE KEY-----/),
    ca: readPem('CACertFile', files.CACertFile, /-----BEGIN CERTIFICATE-----/),
    insecureSkipVerify: files.InsecureSkipVerify === true,
  });
}

/**
 * Registers what an `EtcdConf` says about access (User/Pass, CertFile/CertKeyFile/CACertFile), as go-zero's
 * zrpc server and client do before they touch etcd. TLS needs all three files, as in go-zero.
 */
export function useEtcdConf(conf: EtcdConf): void {
  if (conf.User && conf.Pass) registerEtcdAccount(conf.Hosts, conf.User, conf.Pass);
  else if (conf.User || conf.Pass) {
    throw new ConfigError(
      `Etcd.${conf.User ? 'Pass' : 'User'} is missing; set both Etcd.User and Etcd.Pass, or neither`,
    );
  }
  const files = [conf.CertFile, conf.CertKeyFile, conf.CACertFile];
  if (files.some((f) => f)) {
    const names = ['CertFile', 'CertKeyFile', 'CACertFile'];
    const missing = names.filter((_, i) => !files[i]);
    if (missing.length > 0) {
      throw new ConfigError(
        `Etcd.${missing.join(', Etcd.')} missing; etcd TLS needs CertFile, CertKeyFile and CACertFile`,
      );
    }
    registerEtcdTls(conf.Hosts, conf as EtcdTlsFiles);
  }
}

/** One shared etcd client per cluster (and account), as go-zero keeps one per cluster. */
export function etcdClient(hosts: readonly string[]): Etcd3 {
  const cluster = clusterKey(hosts);
  const account = accounts.get(cluster);
  const tls = tlsConfs.get(cluster);
  // A later registration (another account, TLS) gets a client of its own rather than changing a shared one.
  const tlsId = tls ? hashOf(`${tls.ca}${tls.cert}${tls.key}${tls.insecureSkipVerify}`) : '';
  const id = `${cluster}|${account?.user ?? ''}|${account ? hashOf(account.pass) : ''}|${tlsId}`;
  let c = clients.get(id);
  if (!c) {
    const opts: IOptions = {
      hosts: hosts.map((h) => `${tls ? 'https' : 'http'}://${h}`),
      dialTimeout: ETCD_DIAL_TIMEOUT_MS,
      // Unary calls get a deadline; watch and keep-alive streams must not.
      defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + ETCD_REQUEST_TIMEOUT_MS }),
      faultHandling: {
        // etcd3's default breaker keeps a host out for 5 s after 3 failures, which would delay recovery after
        // etcd comes back past go-zero's 1 s cadence; 1 s keeps a dead host of several out without that cost.
        host: () =>
          circuitBreaker(handleWhen(isRecoverableError), {
            halfOpenAfter: COOL_DOWN_MS,
            breaker: new ConsecutiveBreaker(3),
          }),
        global: retry(handleWhen(isRecoverableError), { maxAttempts: Math.max(1, hosts.length) }),
      },
    };
    if (account) opts.auth = { username: account.user, password: account.pass };
    if (tls) opts.credentials = { rootCertificate: tls.ca, privateKey: tls.key, certChain: tls.cert };
    c = new Etcd3(opts);
    if (tls?.insecureSkipVerify) skipVerify(c, tls);
    clients.set(id, c);
  }
  return c;
}

/**
 * Go's InsecureSkipVerify: accept any server certificate. etcd3 builds its TLS credentials without verify
 * options, so the built ones are swapped before the first call (both the hosts' and the authenticator's).
 */
function skipVerify(c: Etcd3, tls: TlsMaterial): void {
  const creds = grpcCredentials.createSsl(tls.ca, tls.key, tls.cert, {
    rejectUnauthorized: false,
    checkServerIdentity: () => undefined,
  });
  const pool = (
    c as unknown as { pool: { hosts: { channelCredentials: unknown }[]; authenticator: { credentials: unknown } } }
  ).pool;
  for (const h of pool.hosts) h.channelCredentials = creds;
  pool.authenticator.credentials = creds;
}

function hashOf(s: string): string {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0;
  return String(h);
}

/** Closes every shared etcd client, so a CLI can exit. */
export function closeEtcdClients(): void {
  for (const c of clients.values()) c.close();
  clients.clear();
}

/**
 * Turns an etcd client failure into one message that says which etcd, which setting and what to do. It never
 * contains the password (etcd's own messages do not carry it either).
 */
export function describeEtcdError(hosts: readonly string[], err: unknown): string {
  const where = `etcd at ${hosts.join(',')}`;
  let msg = err instanceof Error ? err.message : String(err);
  if (/authentication failed|invalid user ID or password/i.test(msg)) {
    return `${where} rejected the account (authentication failed); fix Etcd.User / Etcd.Pass`;
  }
  if (/user name is empty|user name not found|invalid auth token|auth.*not.*enabled/i.test(msg)) {
    return `${where} requires authentication (${msg.replace(/^.*etcdserver: /, '')}); set Etcd.User and Etcd.Pass`;
  }
  if (/permission denied/i.test(msg)) {
    return `${where}: the account has no permission for this key (permission denied); grant the user a role on the key or use another Etcd.User`;
  }
  if (/certificate|SSL|TLS|handshake|self.signed|Hostname\/IP|ERR_SSL|EPROTO/i.test(msg)) {
    const short =
      /(unable to verify[^,;)]*|self[- ]signed[^,;)]*|Hostname\/IP does not match[^;)]*|certificate[^,;)]*|[A-Z_]*SSL[A-Z_]*[^,;)]*)/i.exec(
        msg,
      );
    return `TLS with ${where} failed (${short?.[1] ?? msg}); check Etcd.CACertFile, Etcd.CertFile and Etcd.CertKeyFile (or set Etcd.InsecureSkipVerify)`;
  }
  // grpc-js wraps the socket error in a long sentence; the socket error is what a person needs.
  const sock = /(connect E[A-Z]+ [^\s.]+(?:\.\d+)*(?::\d+)?|getaddrinfo E[A-Z]+ [^\s.]+(?:\.[^\s.]+)*)/.exec(msg);
  if (sock) msg = sock[1] as string;
  const tlsHint = tlsConfs.has(clusterKey(hosts))
    ? ''
    : ' (if etcd serves TLS, set Etcd.CertFile, Etcd.CertKeyFile and Etcd.CACertFile)';
  return `${where} is unreachable or refused the request (${msg}); start etcd or fix Etcd.Hosts${/E[A-Z]+/.test(msg) ? '' : tlsHint}`;
}
