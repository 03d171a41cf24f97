import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { bankConfigFrom, bankSourceOf, DEFAULT_MYSQL } from './config.ts';
import { parseMysqlDataSource } from './datasource.ts';

describe('bankConfigFrom', () => {
  test('no section: the local MariaDB, and the branches only log', () => {
    expect(bankConfigFrom({ Name: 'trans.rpc' }, 'config t.yaml')).toEqual({
      Store: parseMysqlDataSource(DEFAULT_MYSQL, 'config t.yaml'),
      Bank: false,
    });
  });

  test('a section in any case names the bank, as go-zero reads keys', () => {
    const c = bankConfigFrom({ MYSQL: { datasource: 'u:p@tcp(db:3307)/bank' } }, 'config t.yaml');
    expect(c.Bank).toBe(true);
    expect(c.Store).toMatchObject({
      dialect: 'mysql',
      host: 'db',
      port: 3307,
      database: 'bank',
      shown: 'u:***@tcp(db:3307)/bank',
    });
    const pg = bankConfigFrom({ postgres: { DataSource: 'postgres://u:p@db:5432/bank' } }, 'config t.yaml');
    expect(pg).toMatchObject({ Bank: true, Store: { dialect: 'postgres', database: 'bank' } });
  });

  test('a section without a DataSource, or both sections: an error naming the file and the fix', () => {
    expect(() => bankConfigFrom({ Mysql: {} }, 'config t.yaml')).toThrow(
      'config t.yaml: Mysql.DataSource is missing or not a string; add it, e.g. "Mysql: {DataSource: …}"',
    );
    expect(() => bankConfigFrom({ Postgres: 'x' }, 'config t.yaml')).toThrow(/Postgres\.DataSource is missing/);
    expect(() =>
      bankConfigFrom(
        { Mysql: { DataSource: 'u:p@tcp(h)/a' }, Postgres: { DataSource: 'postgres://h/a' } },
        'config t.yaml',
      ),
    ).toThrow('config t.yaml: both Mysql and Postgres are set; keep the one the bank should use');
  });
});

describe('bankSourceOf', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dtm-gozero-bank-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const yaml = (name: string, text: string): string => {
    const f = join(dir, name);
    writeFileSync(f, text);
    return f;
  };

  test("trans's YAML with a database: that database", () => {
    const f = yaml('bank.yaml', 'Name: trans.rpc\nListenOn: 127.0.0.1:0\nMysql:\n  DataSource: u:s3cr@tcp(h:1)/b\n');
    expect(bankSourceOf(f)).toMatchObject({ dialect: 'mysql', host: 'h', port: 1, database: 'b' });
  });

  test('a YAML without one is refused (a trans started with it only logs); so is one trans could not start with', () => {
    const f = yaml('trans.yaml', 'Name: trans.rpc\nListenOn: 127.0.0.1:0\n');
    expect(() => bankSourceOf(f)).toThrow(
      `config ${f}: no Mysql or Postgres section, so a trans started with it only logs`,
    );
    expect(() => bankSourceOf(join(dir, 'missing.yaml'))).toThrow(/missing\.yaml/);
    const bad = yaml('bad.yaml', 'Name: trans.rpc\nListenOn: nowhere\nMysql:\n  DataSource: u:p@tcp(h:1)/b\n');
    expect(() => bankSourceOf(bad)).toThrow(/ListenOn/);
  });
});
