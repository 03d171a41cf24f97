import { Etcd3, type IOptions } from 'etcd3';

/** Deadline for one etcd request (go-zero uses 3 s). */
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

export interface EtcdAccount {
  user?: string | undefined;
  pass?: string | undefined;
}

const clients = new Map<string, Etcd3>();

/** One shared etcd client per sorted host list, as go-zero keeps one per cluster. */
export function etcdClient(hosts: string[], account: EtcdAccount = {}): Etcd3 {
  const id = [...hosts].sort().join(',');
  let c = clients.get(id);
  if (!c) {
    const opts: IOptions = {
      hosts: hosts.map((h) => `http://${h}`),
      dialTimeout: ETCD_DIAL_TIMEOUT_MS,
      // Unary calls get a deadline; watch and keep-alive streams must not.
      defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + ETCD_REQUEST_TIMEOUT_MS }),
      faultHandling: {},
    };
    if (account.user && account.pass) opts.auth = { username: account.user, password: account.pass };
    c = new Etcd3(opts);
    clients.set(id, c);
  }
  return c;
}

/** Closes every shared etcd client, so a CLI can exit. */
export function closeEtcdClients(): void {
  for (const c of clients.values()) c.close();
  clients.clear();
}

/** Turns an etcd client failure into a message that says which etcd and what to do. */
export function describeEtcdError(hosts: string[], err: unknown): string {
  let msg = err instanceof Error ? err.message : String(err);
  // grpc-js wraps the socket error in a long sentence; the socket error is what a person needs.
  const sock = /(connect E[A-Z]+ [^\s.]+(?:\.\d+)*(?::\d+)?|getaddrinfo E[A-Z]+ [^\s.]+(?:\.[^\s.]+)*)/.exec(msg);
  if (sock) msg = sock[1] as string;
  return `etcd at ${hosts.join(',')} is unreachable or refused the request (${msg}); start etcd or fix Etcd.Hosts`;
}
