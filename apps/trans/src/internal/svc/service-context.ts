import { type Bank, openBank } from '@dtm-gozero/bank';
import type { Config } from '../config/config.ts';

/** What every logic shares (go-zero's ServiceContext): the config, and the bank's database once it is needed. */
export interface ServiceContext {
  readonly config: Config;
  /**
   * The database, opened and migrated (idempotently) on first use. With a database in the YAML trans opens it at
   * start; without one (the Go example's YAML) only the XA and back-check methods ever need it.
   */
  bank(): Promise<Bank>;
  close(): Promise<void>;
}

export function newServiceContext(config: Config): ServiceContext {
  let opened: Promise<Bank> | undefined;
  let bank: Bank | undefined;
  return {
    config,
    bank() {
      opened ??= (async () => {
        // The bank loads its database driver (mysql2 or pg) here, on first use: the drivers cost a log-only trans
        // 8–10 MiB of RSS it never needs.
        const b = openBank(config.Store);
        try {
          await b.migrate();
        } catch (err) {
          opened = undefined; // the next call tries again (the database may come up later)
          await b.close().catch(() => undefined);
          throw err;
        }
        bank = b;
        return b;
      })();
      return opened;
    },
    async close() {
      await bank?.close();
    },
  };
}
