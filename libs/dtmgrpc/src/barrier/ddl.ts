// The barrier table's DDL as statements, from the files the package ships in sql/ (the same text a shell pipes into
// mysql or psql), so a service creates the table from code without resolving paths into the package.
import { readFileSync } from 'node:fs';
import { DtmInputError } from '../errors.ts';

const FILES = { mysql: 'barrier.mysql.sql', postgres: 'barrier.postgres.sql' } as const;

/**
 * The idempotent statements (`IF NOT EXISTS`, never a drop) that create `dtm_barrier.barrier` and its database
 * (MySQL / MariaDB) or schema (PostgreSQL), one per entry: a mysql2 pool runs one statement per query.
 */
export function barrierTableDdl(dialect: 'mysql' | 'postgres'): string[] {
  const file = Object.hasOwn(FILES, dialect) ? FILES[dialect] : undefined;
  if (file === undefined) {
    throw new DtmInputError(
      `barrierTableDdl: no barrier DDL for ${JSON.stringify(dialect)}; pass 'mysql' or 'postgres'`,
    );
  }
  // src/barrier/ and dist/barrier/ both sit two levels below the package root, where sql/ is
  const text = readFileSync(new URL(`../../sql/${file}`, import.meta.url), 'utf8');
  return text
    .replace(/--[^\n]*/g, '') // comments first: they contain semicolons
    .split(';')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}
