// etcd's command line and dtm's etcd key, shared by both backends and startEtcd (a module of their own, so that
// docker.ts and etcd.ts need not import the local backend).

/** The etcd key dtm registers under (the example's `etcd://localhost:2379/dtmservice`). */
export const DTM_SERVICE_KEY = 'dtmservice';

/** etcd's flags for a one-member cluster on loopback (both backends). */
export function etcdArgs(o: { name: string; dataDir: string; clientPort: number; peerPort: number }): string[] {
  const client = `http://127.0.0.1:${o.clientPort}`;
  const peer = `http://127.0.0.1:${o.peerPort}`;
  return [
    `--name=${o.name}`,
    `--data-dir=${o.dataDir}`,
    `--listen-client-urls=${client}`,
    // go-zero-style clients replace their endpoints with the advertised URL: it must be this same address.
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=${o.name}=${peer}`,
    '--initial-cluster-state=new',
    '--logger=zap',
    '--log-outputs=stderr',
  ];
}
