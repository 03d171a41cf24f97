// `npm run cluster:up` / `cluster:down`: the cluster on the fixed ports of the README, detached, with MariaDB of
// `bash scripts/db.sh up` as dtm's store and the bank.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { portOpen } from '@dtm-gozero/testkit';
import { Cluster, FIXED_PORTS, REPO_ROOT, stopRecorded } from './cluster.ts';

async function cli(): Promise<void> {
  const { positionals, values } = parseArgs({ allowPositionals: true, options: { dir: { type: 'string' } } });
  const dir = values.dir ?? join(REPO_ROOT, '.stack', 'cluster');
  if (positionals[0] === 'down') {
    const n = await stopRecorded(dir, (line) => console.log(line));
    console.log(n === 0 ? 'cluster: nothing running' : `cluster: stopped ${n} processes`);
    return;
  }
  if (positionals[0] !== 'up') throw new Error('usage: npm run cluster:up | npm run cluster:down [-- --dir DIR]');
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
