// The chaos suite: random transfers in every mode through a dtm cluster (3 etcd members, 2 dtm instances on one
// MySQL store) while trans is SIGKILLed and restarted, dtm instances are killed and restarted, and an etcd member
// is down for longer than the lease TTL; then, bounded, it waits until dtm has finished every transaction and
// checks from the database and dtm — never from its own memory — that no money was lost, doubled or overdrawn.
//   npm run chaos -- --transfers 300 --concurrency 8 --kills 3 --dtm-restarts 1 --etcd-outage 12 --out .cache/chaos/chaos.json
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { stopAppWorkflows } from '@dtm-gozero/app/workflow';
import { closeConnections } from '@dtm-gozero/dtmgrpc';
import { closeEtcdClients } from '@dtm-gozero/gozero';
import { parseOptions } from './options.ts';
import { table } from './report.ts';
import { runChaos } from './run.ts';

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  // Made before the run, so that a path that cannot be written fails now, not after minutes of chaos.
  if (o.out) mkdirSync(dirname(resolve(o.out)), { recursive: true });
  const r = await runChaos(o);
  console.log(table(r));
  if (o.out) writeFileSync(o.out, `${JSON.stringify(r, null, 2)}\n`);
  if (!r.ok) {
    console.error(`chaos: VIOLATIONS\n${r.violations.join('\n')}`);
    process.exitCode = 1;
  } else console.log('chaos: no money lost, doubled or overdrawn; every transaction final in dtm');
}

if (import.meta.main) {
  main()
    .catch((err: unknown) => {
      console.error(`chaos: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = 2;
    })
    .finally(() => {
      void stopAppWorkflows(); // the callback server of the workflow transfers
      closeConnections();
      closeEtcdClients();
    });
}
