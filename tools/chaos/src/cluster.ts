// A dtm cluster on one machine, as users scale out: a 3-member etcd cluster, 2 dtm instances sharing one MySQL store
// (dtm's scaling model: stateless servers over one database, each registered under dtmservice), and the bank's trans.
// `npm run cluster:up` / `cluster:down` run it on the fixed ports of the README; the chaos suite
// (run.ts) runs one on free ports with a MariaDB of its own, and kills and restarts its members.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { pidAlive } from '@dtm-gozero/devkit';
import {
  createMysqlDatabase,
  dtmInstanceConfig,
  dtmPing,
  etcdHealthy,
  etcdPrefix,
  localBinaries,
  type MysqlServer,
  portOpen,
  waitUntil,
} from '@dtm-gozero/testkit';
import { Service } from './service.ts';

export const REPO_ROOT = join(import.meta.dirname, '../../..');

export interface ClusterPorts {
  /** [client, peer] of each etcd member. */
  etcd: [number, number][];
  /** [http, grpc] of each dtm instance. */
  dtm: [number, number][];
  trans: number;
}

export interface ClusterOptions {
  dir: string;
  ports: ClusterPorts;
  mysql: MysqlServer;
  /** The dtm store database (created with dtm's schema) and the bank's database. */
  dtmDb: string;
  bankDb: string;
  /** Overrides of infra/dtm/config.yml (e.g. shorter retry intervals for the chaos suite). */
  dtmSettings?: Record<string, unknown>;
  /** Leave the processes running when this process exits (cluster:up, chaos --keep). */
  detached?: boolean;
}

const TRANS_MAIN = join(REPO_ROOT, 'apps/trans/src/trans.ts');
const START_MS = 30_000;

export class Cluster {
  readonly o: ClusterOptions;
  readonly etcd: Service[];
  readonly dtm: Service[];
  readonly trans: Service;
  readonly etcdHosts: string[];

  constructor(o: ClusterOptions) {
    this.o = o;
    mkdirSync(o.dir, { recursive: true });
    const bins = localBinaries();
    if (!bins.etcd || !bins.dtm) throw new Error(`missing ${bins.missing.join(', ')}; run npm run setup`);
    const { etcd: etcdBin, dtm: dtmBin } = bins;
    this.etcdHosts = o.ports.etcd.map(([c]) => `127.0.0.1:${c}`);
    const initial = o.ports.etcd.map(([, p], i) => `e${i}=http://127.0.0.1:${p}`).join(',');
    this.etcd = o.ports.etcd.map(([client, peer], i) => {
      const url = `http://127.0.0.1:${client}`;
      const args = [
        `--name=e${i}`,
        `--data-dir=${join(o.dir, `etcd-${i}.data`)}`,
        `--listen-client-urls=${url}`,
        `--advertise-client-urls=${url}`,
        `--listen-peer-urls=http://127.0.0.1:${peer}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${peer}`,
        `--initial-cluster=${initial}`,
        '--initial-cluster-state=new',
        '--initial-cluster-token=dtm-gozero-cluster',
      ];
      // A member answers /health only once the cluster has a leader: the first waits for its peers' TCP port.
      return new Service(o.dir, `etcd-${i}`, etcdBin, args, () => portOpen(client), { detached: o.detached });
    });
    this.dtm = o.ports.dtm.map(([httpPort, grpcPort], i) => {
      const conf = dtmInstanceConfig({
        etcdHosts: this.etcdHosts,
        httpPort,
        grpcPort,
        mysql: o.mysql,
        db: o.dtmDb,
        ...(o.dtmSettings ? { settings: o.dtmSettings } : {}),
      });
      const file = join(o.dir, `dtm-${i}.yml`);
      writeFileSync(file, conf);
      return new Service(o.dir, `dtm-${i}`, dtmBin, ['-c', file], () => dtmPing(`http://127.0.0.1:${httpPort}`), {
        detached: o.detached,
      });
    });
    const transYaml = join(o.dir, 'trans.yaml');
    writeFileSync(transYaml, this.transYaml());
    this.trans = new Service(
      o.dir,
      'trans',
      process.execPath,
      [TRANS_MAIN, '-f', transYaml],
      () => portOpen(o.ports.trans),
      {
        cwd: join(REPO_ROOT, 'apps/trans'),
        detached: o.detached,
      },
    );
  }

  /** `etcd://h1,h2,h3/dtmservice`: dtm found through any member. */
  get dtmTarget(): string {
    return `etcd://${this.etcdHosts.join(',')}/dtmservice`;
  }

  get dtmHttp(): string[] {
    return this.o.ports.dtm.map(([http]) => `http://127.0.0.1:${http}`);
  }

  /** The bank's data source, go-zero's DSN form. */
  get bankDataSource(): string {
    const m = this.o.mysql;
    return `${m.user}:${m.password}@tcp(${m.host}:${m.port})/${this.o.bankDb}?parseTime=true`;
  }

  transYaml(): string {
    const hosts = this.etcdHosts.map((h) => `    - ${h}\n`).join('');
    return `Name: trans.rpc\nListenOn: 127.0.0.1:${this.o.ports.trans}\nEtcd:\n  Hosts:\n${hosts}  Key: trans\nMysql:\n  DataSource: ${this.bankDataSource}\n`;
  }

  appYaml(): string {
    const hosts = this.etcdHosts.map((h) => `    - ${h}\n`).join('');
    return `Etcd:\n  Hosts:\n${hosts}  Key: trans\n`;
  }

  /** Creates dtm's store database, then starts etcd (all members at once), both dtm instances and trans. */
  async start(): Promise<void> {
    await createMysqlDatabase(this.o.mysql, this.o.dtmDb);
    await Promise.all(this.etcd.map((e) => e.start()));
    const first = `http://${this.etcdHosts[0]}`;
    await waitUntil(() => etcdHealthy(first), START_MS, 'the etcd cluster elected no leader');
    for (const d of this.dtm) await d.start();
    await waitUntil(
      async () => Object.keys(await etcdPrefix(first, 'dtmservice/')).length >= this.dtm.length,
      START_MS,
      'both dtm instances registered under dtmservice/',
    );
    await this.trans.start();
    this.saveState();
  }

  /** Stops everything this cluster started (trans first, so it deregisters). */
  async stop(): Promise<void> {
    await this.trans.kill('SIGTERM');
    for (const d of this.dtm) await d.kill('SIGTERM');
    for (const e of this.etcd) await e.kill('SIGTERM');
    rmSync(join(this.o.dir, 'pids.json'), { force: true });
  }

  /** Pids on disk, so that `cluster:down` (another process) can stop a detached cluster. */
  saveState(extra: Service[] = []): void {
    const pids = [this.trans, ...this.dtm, ...this.etcd, ...extra]
      .map((s) => s.pid)
      .filter((p): p is number => p !== undefined);
    writeFileSync(join(this.o.dir, 'pids.json'), JSON.stringify({ pids }));
  }
}

/** What a pid runs, for the progress lines: `etcd`, `dtm`, `trans.ts`… (empty when it is gone). */
function nameOf(pid: number): string {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      .split('\0')
      .filter((a) => a !== '');
    const script = argv.find((a) => a.endsWith('.ts'));
    return basename(script ?? argv[0] ?? '');
  } catch {
    return '';
  }
}

/**
 * Stops the processes a detached cluster recorded in `<dir>/pids.json`, trans first; bounded (5 s each, then
 * SIGKILL). `say` gets one line per process as it goes (trans drains for ~5 s, so a silent stop looked hung).
 */
export async function stopRecorded(dir: string, say: (line: string) => void = () => undefined): Promise<number> {
  const file = join(dir, 'pids.json');
  if (!existsSync(file)) return 0;
  const { pids } = JSON.parse(readFileSync(file, 'utf8')) as { pids: number[] };
  let n = 0;
  for (const [i, pid] of pids.entries()) {
    const name = nameOf(pid);
    try {
      process.kill(pid, 'SIGTERM');
      n++;
    } catch {
      say(`cluster: ${i + 1}/${pids.length} pid ${pid} already gone`);
      continue;
    }
    const t0 = Date.now();
    const gone = await waitUntil(async () => !pidAlive(pid), 5000, `pid ${pid} gone`).then(
      () => true,
      () => false,
    );
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
    const took = ((Date.now() - t0) / 1000).toFixed(1);
    say(
      `cluster: ${i + 1}/${pids.length} ${name || 'pid'} (pid ${pid}) stopped in ${took} s${gone ? '' : ' (SIGKILL)'}`,
    );
  }
  rmSync(file, { force: true });
  return n;
}

/** The fixed ports of `npm run cluster:up` (etcd 2379 is the stack's; the others sit next to it). */
export const FIXED_PORTS: ClusterPorts = {
  etcd: [
    [2379, 2380],
    [22379, 22380],
    [32379, 32380],
  ],
  dtm: [
    [36789, 36790],
    [36889, 36890],
  ],
  trans: 50081,
};
