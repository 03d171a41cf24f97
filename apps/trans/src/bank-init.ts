// `npm run bank:init [-- -f etc/bank.yaml]`: creates the bank's database, tables and dtm's barrier table on the server
// trans's YAML names (idempotent; trans does the same at start), for operators who prepare databases ahead of time.
import { parseArgs } from 'node:util';
import { bankSourceOf, openBank } from '@dtm-gozero/bank';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { f: { type: 'string', short: 'f', default: 'etc/bank.yaml' } } });
  const source = bankSourceOf(values.f as string);
  const bank = openBank(source);
  try {
    await bank.migrate();
    console.log(`bank: ${source.shown} has its tables (user_account, ledger) and dtm_barrier.barrier`);
  } finally {
    await bank.close();
  }
}

main().catch((err: unknown) => {
  console.error(`bank:init: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
