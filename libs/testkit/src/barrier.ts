// dtm's sub-transaction barrier table, created from the DDL @dtm-gozero/dtmgrpc ships (its `sql/` export), so a
// test's own database gets exactly the table the barrier writes to.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { TestkitError } from './errors.ts';

/** Anything with mysql2's or pg's `query(sql)`: a pool, a connection, a client. */
export interface SqlQueryable {
  query(sql: string): Promise<unknown>;
}

/** The database to create the table in: `{ mysql: pool }` (mysql2) or `{ postgres: pool }` (pg), as dtmgrpc takes it. */
export type BarrierTableDb = { mysql: SqlQueryable } | { postgres: SqlQueryable };

/** The statements of a DDL file: comments dropped (they contain semicolons), split at `;`. */
export function ddlStatements(ddl: string): string[] {
  return ddl
    .replace(/--[^\n]*/g, '')
    .split(';')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function barrierDdl(file: 'barrier.mysql.sql' | 'barrier.postgres.sql'): string {
  let path: string;
  try {
    // createRequire, not import.meta.resolve: vitest's module runner has no import.meta.resolve
    path = createRequire(import.meta.url).resolve(`@dtm-gozero/dtmgrpc/sql/${file}`);
  } catch (err) {
    throw new TestkitError(
      'ensureBarrierTable reads the DDL of @dtm-gozero/dtmgrpc, which is not installed: npm install @dtm-gozero/dtmgrpc',
      { cause: err },
    );
  }
  return readFileSync(path, 'utf8');
}

/**
 * Creates dtm's barrier table `dtm_barrier.barrier` (and its database / schema) unless it exists: the DDL of
 * @dtm-gozero/dtmgrpc (`sql/barrier.*.sql`), statement by statement (a mysql2 pool runs one per query).
 * Idempotent; it never touches existing rows.
 */
export async function ensureBarrierTable(db: BarrierTableDb): Promise<void> {
  const [pool, file] =
    'mysql' in db ? [db.mysql, 'barrier.mysql.sql' as const] : [db.postgres, 'barrier.postgres.sql' as const];
  for (const statement of ddlStatements(barrierDdl(file))) await pool.query(statement);
}
