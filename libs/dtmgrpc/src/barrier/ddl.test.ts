import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { expect, test } from 'vitest';
import { DtmInputError } from '../errors.ts';
import { barrierTableDdl } from './ddl.ts';

test('the statements are those of the exported sql/ files, comments dropped, one per entry', () => {
  const mysql = barrierTableDdl('mysql');
  expect(mysql).toHaveLength(2);
  expect(mysql[0]).toBe('CREATE DATABASE IF NOT EXISTS dtm_barrier DEFAULT CHARACTER SET utf8mb4');
  expect(mysql[1]).toMatch(/^CREATE TABLE IF NOT EXISTS dtm_barrier\.barrier \(/);
  expect(mysql[1]).toContain('UNIQUE KEY uniq_barrier (gid, branch_id, op, barrier_id)');
  const pg = barrierTableDdl('postgres');
  expect(pg.map((s) => s.split('\n')[0])).toEqual([
    'CREATE SCHEMA IF NOT EXISTS dtm_barrier',
    'CREATE SEQUENCE IF NOT EXISTS dtm_barrier.barrier_seq',
    'CREATE TABLE IF NOT EXISTS dtm_barrier.barrier (',
  ]);
  expect(pg[2]).toContain('CONSTRAINT uniq_barrier UNIQUE (gid, branch_id, op, barrier_id)');
  for (const s of [...mysql, ...pg]) expect(s).not.toMatch(/--|;/);
  // the same text a consumer resolves through the package's `./sql/*` export
  const file = readFileSync(
    createRequire(import.meta.url).resolve('@dtm-gozero/dtmgrpc/sql/barrier.mysql.sql'),
    'utf8',
  );
  for (const s of mysql) expect(file.replace(/\s+/g, ' ')).toContain(s.replace(/\s+/g, ' ').split(' (')[0]);
});

test('a dialect it has no DDL for is refused, naming the two it has', () => {
  expect(() => barrierTableDdl('sqlite' as 'mysql')).toThrow(DtmInputError);
  expect(() => barrierTableDdl('toString' as 'mysql')).toThrow(
    /no barrier DDL for "toString"; pass 'mysql' or 'postgres'/,
  );
});
