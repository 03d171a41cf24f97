// A dtm cluster on one machine, as users scale out: a 3-member etcd cluster, 2 dtm instances sharing one MySQL store
// (dtm's scaling model: stateless servers over one database, each registered under dtmservice), and the bank's trans.
// `npm run cluster:up` / `cluster:down` run it on the fixed ports of the README; the chaos suite
// (scripts/chaos.ts) runs one on free ports with a MariaDB of its own, and kills and restarts its members.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { createConnection } from 'mysql2/promise';
import { dtmConfig, dtmConfigYaml, mysqlStorageDdl, readSharedDtmConfig } from '../libs/testkit/src/dtm-config.ts';
import { localBinaries, MYSQL_STORAGE_DDL } from '../libs/testkit/src/paths.ts';
import { dtmPing, etcdHealthy, etcdPrefix, waitUntil } from '../libs/testkit/src/probe.ts';

const REPO_ROOT = join(import.meta.dirname, '..');

export interface MysqlServer {
  host: string;
  port: number;
  user: string;
  password: string;
}

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

/** One supervised server: started, killed and restarted by name; output appended to `<dir>/<name>.log`. */
export class Service {
  readonly name: string;
  readonly log: string;
  #proc: ChildProcess | undefined;
  #exited = true;
  readonly #cmd: string;
  readonly #args: string[];
  readonly #cwd: string;
  readonly #detached: boolean;
  readonly #ready: () => Promise<boolean>;

  constructor(
    dir: string,
    name: string,
    cmd: string,
    args: string[],
    ready: () => Promise<boolean>,
    o: { cwd?: string; detached?: boolean } = {},
  ) {
    this.name = name;
    this.log = join(dir, `${name}.log`);
    this.#cmd = cmd;
    this.#args = args;
    this.#cwd = o.cwd ?? dir;
    this.#detached = o.detached ?? false;
    this.#ready = ready;
  }

  get pid(): number | undefined {
    return this.#exited ? undefined : this.#proc?.pid;
  }

  /** Starts the process and waits (bounded) until it answers. */
  async start(ms = START_MS): Promise<void> {
    if (this.pid !== undefined) throw new Error(`${this.name} is already running (pid ${this.pid})`);
    const fd = openSync(this.log, 'a');
    const p = spawn(this.#cmd, this.#args, { cwd: this.#cwd, stdio: ['ignore', fd, fd], detached: true });
    closeSync(fd);
    this.#proc = p;
    this.#exited = false;
    p.once('exit', () => {
      if (this.#proc === p) this.#exited = true;
    });
    if (this.#detached) p.unref();
    await waitUntil(this.#ready, ms, `${this.name} did not come up (log: ${this.log})`, () =>
      this.#exited ? `it exited; last lines of ${this.log}:\n${tail(this.log)}` : undefined,
    );
  }

  /** Sends `signal` and waits (bounded) until the process is gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL', ms = 10_000): Promise<void> {
    const p = this.#proc;
    if (!p || this.#exited) return;
    const gone = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill(signal);
    const t = setTimeout(() => p.kill('SIGKILL'), ms);
    await gone;
    clearTimeout(t);
  }
}

function tail(file: string, n = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-n).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Whether host:port accepts a TCP connection within 1 s. */
export function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ port, host });
    const done = (ok: boolean): void => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1000, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

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
    const shared = readSharedDtmConfig();
    const store = {
      Driver: 'mysql',
      Host: o.mysql.host,
      Port: o.mysql.port,
      User: o.mysql.user,
      Password: o.mysql.password,
      Db: o.dtmDb,
    };
    this.dtm = o.ports.dtm.map(([http, grpc], i) => {
      const conf = dtmConfig(
        { ...shared, ...o.dtmSettings },
        {
          target: `etcd://${this.etcdHosts.join(',')}/dtmservice`,
          endPoint: `127.0.0.1:${grpc}`,
          httpPort: http,
          grpcPort: grpc,
        },
        store,
      );
      const file = join(o.dir, `dtm-${i}.yml`);
      writeFileSync(file, dtmConfigYaml(conf));
      return new Service(o.dir, `dtm-${i}`, dtmBin, ['-c', file], () => dtmPing(`http://127.0.0.1:${http}`), {
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
    const c = await createConnection({ ...this.o.mysql, multipleStatements: true, connectTimeout: 3000 });
    try {
      await c.query(mysqlStorageDdl(readFileSync(MYSQL_STORAGE_DDL, 'utf8'), this.o.dtmDb));
    } finally {
      await c.end();
    }
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
    let gone = false;
    for (let k = 0; k < 50 && !gone; k++) {
      try {
        process.kill(pid, 0);
        await new Promise((r) => setTimeout(r, 100));
      } catch {
        gone = true;
      }
    }
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

/** A MariaDB of its own on `port`, data in `dir` (for the chaos suite: never the user's server). */
export async function startOwnMariadb(
  dir: string,
  port: number,
  detached = false,
): Promise<{ server: MysqlServer; service: Service }> {
  const password = 'dtm-test';
  const data = join(dir, 'mariadb');
  mkdirSync(data, { recursive: true });
  const asRoot = process.getuid?.() === 0;
  if (asRoot) execFileSync('chown', ['-R', 'mysql', dir]);
  const user = asRoot ? ['--user=mysql'] : [];
  execFileSync(
    'mariadb-install-db',
    ['--no-defaults', `--datadir=${data}`, ...user, '--auth-root-authentication-method=normal', '--skip-test-db'],
    {
      stdio: 'ignore',
      timeout: 60_000,
    },
  );
  const sock = join(data, 'mysqld.sock');
  const service = new Service(
    dir,
    'mariadb',
    'mariadbd',
    [
      '--no-defaults',
      `--datadir=${data}`,
      ...user,
      '--bind-address=127.0.0.1',
      `--port=${port}`,
      `--socket=${sock}`,
      '--skip-name-resolve',
      '--innodb-buffer-pool-size=128M',
      '--max-connections=500',
    ],
    () => portOpen(port),
    { detached },
  );
  await service.start(60_000);
  const sql = `ALTER USER 'root'@'localhost' IDENTIFIED BY '${password}'; CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '${password}'; ALTER USER 'root'@'127.0.0.1' IDENTIFIED BY '${password}'; GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION; FLUSH PRIVILEGES;`;
  await waitUntil(
    async () => {
      execFileSync('mariadb', ['--no-defaults', '-S', sock, '-uroot', '-e', sql], { stdio: 'ignore', timeout: 5000 });
      return true;
    },
    20_000,
    'setting the MariaDB root password',
  );
  return { server: { host: '127.0.0.1', port, user: 'root', password }, service };
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

async function cli(): Promise<void> {
  const { positionals, values } = parseArgs({ allowPositionals: true, options: { dir: { type: 'string' } } });
  const dir = values.dir ?? join(REPO_ROOT, '.stack', 'cluster');
  if (positionals[0] === 'down') {
    const n = await stopRecorded(dir, (line) => console.log(line));
    console.log(n === 0 ? 'cluster: nothing running' : `cluster: stopped ${n} processes`);
    return;
  }
  if (positionals[0] !== 'up') throw new Error('usage: node scripts/cluster.ts up|down');
  if (existsSync(join(dir, 'pids.json'))) throw new Error('cluster: already up (npm run cluster:down first)');
  for (const p of [...FIXED_PORTS.etcd.flat(), ...FIXED_PORTS.dtm.flat(), FIXED_PORTS.trans]) {
    if (await portOpen(p))
      throw new Error(`cluster: port ${p} is taken; stop the other stack (npm run stack:down) first`);
  }
  const mysql = { host: '127.0.0.1', port: 3306, user: 'root', password: 'dtm-test' };
  if (!(await portOpen(3306)))
    throw new Error('cluster: MariaDB does not answer on 127.0.0.1:3306; run bash scripts/db.sh up');
  const c = new Cluster({ dir, ports: FIXED_PORTS, mysql, dtmDb: 'dtm', bankDb: 'dtm_busi', detached: true });
  try {
    await c.start();
  } catch (err) {
    await c.stop();
    throw err;
  }
  writeFileSync(join(dir, 'app.yaml'), c.appYaml());
  console.log(
    `cluster: etcd ${c.etcdHosts.join(',')}; dtm ${c.dtmHttp.join(', ')} (both under dtmservice/, store mysql ${mysql.host}:${mysql.port}/dtm); trans 127.0.0.1:${FIXED_PORTS.trans} (bank dtm_busi)`,
  );
  console.log(
    `cluster: npm run app -- transfer --from 1 --to 2 --amount 30 -f ${join(dir, 'app.yaml')} --bank ${join(dir, 'trans.yaml')} --dtm '${c.dtmTarget}' --dtm-http ${c.dtmHttp.join(',')}`,
  );
  console.log(`cluster: logs in ${dir}; npm run cluster:down stops it`);
}

if (import.meta.main) {
  cli().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  });
}
