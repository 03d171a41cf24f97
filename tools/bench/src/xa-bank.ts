// --mode xa: trans's bank in a MariaDB of the bench's own (the testkit's startDatabases: a free port, its data in a
// temp dir removed on stop, on Ctrl-C, and by the next start if the bench was killed), and each loop's two accounts
// funded far beyond what a run moves.
import { openBank, parseMysqlDataSource } from '@dtm-gozero/bank';
import { tempFile } from '@dtm-gozero/devkit';
import { startDatabases } from '@dtm-gozero/testkit';
import { xaUsers } from './protocol.ts';

/** Each xa loop's two accounts start with this many cents: far more than any run moves (30 per transaction). */
const XA_BALANCE = 10n ** 15n;

export interface XaBank {
  /** trans's YAML naming the bank's database (trans creates it, its tables and the seed accounts at start). */
  yaml: string;
  /** Sets the balances of the accounts of loops 0 … slots-1 (once trans has created the tables). */
  fund(slots: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startXaBank(): Promise<XaBank> {
  let db: Awaited<ReturnType<typeof startDatabases<'mysql'>>>;
  try {
    // Each loop's phase 1 opens a session of its own besides trans's pool: a level of a few hundred loops would pass
    // MariaDB's default of 151 connections, so the bench's server allows 500.
    const initSql = tempFile('bench-xa.sql', 'SET GLOBAL max_connections = 500;\n');
    db = await startDatabases({ servers: ['mysql'], initSql: { mysql: initSql } });
  } catch (err) {
    throw new Error(
      `--mode xa: MariaDB did not start (bash scripts/setup-db.sh installs it): ${(err as Error).message}`,
    );
  }
  const { host, port, user, password } = db.mysql;
  const dataSource = `${user}:${password}@tcp(${host}:${port})/bench_bank?parseTime=true`;
  process.stderr.write(`bench: xa: MariaDB of its own at ${host}:${port} (data in ${db.dir})\n`);
  return {
    yaml: `Mysql:\n  DataSource: ${dataSource}\n`,
    async fund(slots) {
      const bank = openBank(parseMysqlDataSource(dataSource, 'bench --mode xa'));
      try {
        await bank.setBalances(
          Array.from({ length: slots }, (_, i) => xaUsers(i)).flatMap((us) =>
            us.map((u) => [u, XA_BALANCE] as [bigint, bigint]),
          ),
        );
      } finally {
        await bank.close();
      }
    },
    stop: () => db.stop(),
  };
}
