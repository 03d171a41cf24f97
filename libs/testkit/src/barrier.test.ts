import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { expect, test } from 'vitest';
import { ddlStatements } from './barrier.ts';

test("the DDL's statements: comments dropped (they hold semicolons), one statement per element", () => {
  expect(
    ddlStatements('-- a; b\nCREATE SCHEMA x; -- trailing; note\n\nCREATE TABLE x.t (\n  id INT -- the id;\n);\n'),
  ).toEqual(['CREATE SCHEMA x', 'CREATE TABLE x.t (\n  id INT \n)']);
  const file = createRequire(import.meta.url).resolve('@dtm-gozero/dtmgrpc/sql/barrier.postgres.sql');
  expect(ddlStatements(readFileSync(file, 'utf8')).map((s) => s.split(/\s+/).slice(0, 3).join(' '))).toEqual([
    'CREATE SCHEMA IF',
    'CREATE SEQUENCE IF',
    'CREATE TABLE IF',
  ]);
});
