// Container healthcheck of trans (the image has no curl): exits 0 when trans is ready for callers, 1 otherwise.
// Ready means both: its gRPC port accepts TCP connections, and etcd holds its registration, i.e. a key under
// `<Etcd.Key>/` whose value is an address with trans's port that accepts connections too (the address callers
// dial). Reads the same go-zero YAML as trans (-f); uses only the library's public API.
//   node infra/docker/trans-healthcheck.ts -f apps/trans/etc/trans.yaml
import { connect } from 'node:net';
import { parseArgs } from 'node:util';
import {
  buildTarget,
  closeEtcdClients,
  loadServerConf,
  parseListenOn,
  resolveTarget,
  useEtcdConf,
} from '@dtm-gozero/gozero';

const STEP_TIMEOUT_MS = 1500;

function canConnect(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, timeout: STEP_TIMEOUT_MS });
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('timeout', () => {
      socket.destroy();
      reject(new Error(`no answer from ${host}:${port} within ${STEP_TIMEOUT_MS} ms`));
    });
    socket.once('error', reject);
  });
}

async function main(): Promise<string> {
  const { values } = parseArgs({ options: { f: { type: 'string', short: 'f', default: 'etc/trans.yaml' } } });
  const c = loadServerConf(values.f as string);
  const { host, port } = parseListenOn(c.ListenOn);
  // A wildcard ListenOn (":50081", "0.0.0.0:50081") listens on loopback too.
  await canConnect(host === '' || host === '0.0.0.0' ? '127.0.0.1' : host, port);
  if (!c.Etcd) return `trans listens on ${c.ListenOn} (no Etcd in its config, nothing registered)`;

  useEtcdConf(c.Etcd); // its account and TLS, as trans itself uses them
  const target = buildTarget({ Etcd: c.Etcd, NonBlock: false, Timeout: 0 });
  const published = (await resolveTarget(target, STEP_TIMEOUT_MS)).find((a) => a.endsWith(`:${port}`));
  if (!published) throw new Error(`no key under ${c.Etcd.Key}/ in etcd holds an address with port ${port} (yet)`);
  const p = parseListenOn(published);
  await canConnect(p.host, p.port);
  return `trans listens on ${c.ListenOn} and is registered in etcd as ${published}`;
}

main().then(
  (ok) => {
    console.log(ok);
    closeEtcdClients();
    process.exit(0);
  },
  (err: unknown) => {
    console.error(`unhealthy: ${err instanceof Error ? err.message : String(err)}`);
    closeEtcdClients();
    process.exit(1);
  },
);
