import { describe, expect, test } from 'vitest';
import { parseMysqlDataSource, parsePostgresDataSource } from './datasource.ts';

describe('Mysql.DataSource', () => {
  test.each([
    ['root:dtm-test@tcp(127.0.0.1:3306)/dtm_busi?parseTime=true', 'root', 'dtm-test', '127.0.0.1', 3306, 'dtm_busi'],
    ['u:p@tcp(db.local)/bank', 'u', 'p', 'db.local', 3306, 'bank'],
    [
      'u:p:w@x@tcp(10.0.0.5:3307)/bank?charset=utf8mb4&parseTime=true&loc=Local',
      'u',
      'p:w@x',
      '10.0.0.5',
      3307,
      'bank',
    ],
    ['root@tcp(127.0.0.1:3306)/dtm_busi', 'root', '', '127.0.0.1', 3306, 'dtm_busi'],
    ['mysql://root:dtm-test@127.0.0.1:3306/dtm_busi', 'root', 'dtm-test', '127.0.0.1', 3306, 'dtm_busi'],
    ['mysql://a%40b:p%3Aq@h:1234/d', 'a@b', 'p:q', 'h', 1234, 'd'],
  ])('%s', (ds, user, password, host, port, database) => {
    expect(parseMysqlDataSource(ds, 'config x.yaml')).toMatchObject({
      dialect: 'mysql',
      user,
      password,
      host,
      port,
      database,
    });
  });

  test('masks the password in what it shows', () => {
    expect(parseMysqlDataSource('root:secret@tcp(h:1)/d', 'c').shown).toBe('root:***@tcp(h:1)/d');
  });

  // A password may hold / : @ %: every one of them is masked whole, in both forms and in refusals.
  const SECRET = 'p/w:x@y%41z';
  test.each([
    [`root:${SECRET}@tcp(h:1)/d?tls=preferred`, 'root:***@tcp(h:1)/d?tls=preferred'],
    [`mysql://root:${encodeURIComponent(SECRET)}@h:1/d`, 'mysql://root:***@h:1/d'],
  ])('masks a password with / : @ %% (%s)', (ds, shown) => {
    const s = parseMysqlDataSource(ds, 'c');
    expect(s.shown).toBe(shown);
    if (s.dialect === 'mysql') expect(s.password).toBe(SECRET);
  });
  test.each([`root:${SECRET}@tcp(h:99999)/d`, `root:${SECRET}@tcp(h:1)/a-b`, `root:${SECRET}@tcp(h:1)/d?tls=mine`])(
    'a refusal never shows the password (%s)',
    (ds) => {
      expect(() => parseMysqlDataSource(ds, 'c')).toThrow(/root:\*\*\*@tcp/);
      try {
        parseMysqlDataSource(ds, 'c');
      } catch (err) {
        for (const part of ['p/w', 'x@y', '%41z']) expect((err as Error).message).not.toContain(part);
      }
    },
  );

  test.each([
    ['root:x@tcp(h:1)/d', 'false'],
    ['root:x@tcp(h:1)/d?parseTime=true&tls=true', 'true'],
    ['root:x@tcp(h:1)/d?tls=skip-verify', 'skip-verify'],
    ['root:x@tcp(h:1)/d?tls=preferred&parseTime=true', 'preferred'],
    ['mysql://root:x@h:1/d?tls=true', 'true'],
  ])("go-sql-driver's tls parameter is kept: %s → %s", (ds, tls) => {
    expect(parseMysqlDataSource(ds, 'c')).toMatchObject({ tls });
  });
  test('a tls config name registered in Go code is refused, naming the accepted values', () => {
    expect(() => parseMysqlDataSource('root:x@tcp(h:1)/d?tls=custom', 'c')).toThrow(
      /tls=custom: .*use tls=true, skip-verify, preferred or false/,
    );
  });

  test.each([
    [
      'dtm_busi',
      /is not a MySQL data source; write go-zero's form user:pass@tcp\(127\.0\.0\.1:3306\)\/dtm_busi\?parseTime=true or a URL mysql:\/\//,
    ],
    ['root:x@unix(/tmp/s.sock)/d', /is not a MySQL data source/],
    ['root:x@tcp(h:99999)/d', /is not a MySQL data source/],
    ['root:x@tcp(h:1)/', /the database name, after the "\/", must be a plain identifier/],
    ['root:x@tcp(h:1)/a-b', /must be a plain identifier/],
  ])('refuses %s', (ds, message) => {
    expect(() => parseMysqlDataSource(ds, 'config x.yaml')).toThrow(message);
    expect(() => parseMysqlDataSource(ds, 'config x.yaml')).toThrow(/^config x\.yaml: Mysql\.DataSource/);
  });
});

describe('Postgres.DataSource', () => {
  test('a postgres:// URL', () => {
    expect(parsePostgresDataSource('postgres://p:s@127.0.0.1:5432/dtm_busi', 'c')).toMatchObject({
      dialect: 'postgres',
      database: 'dtm_busi',
      shown: 'postgres://p:***@127.0.0.1:5432/dtm_busi',
    });
  });
  test('masks a password with / : @ %', () => {
    expect(parsePostgresDataSource(`postgres://p:${encodeURIComponent('a/b:c@d%e')}@h:5432/d`, 'c').shown).toBe(
      'postgres://p:***@h:5432/d',
    );
  });
  test.each(['host=localhost dbname=x', 'mysql://a:b@h/d', 'postgres://h/'])('refuses %s', (ds) => {
    expect(() => parsePostgresDataSource(ds, 'c')).toThrow(
      /^c: Postgres\.DataSource .* PostgreSQL URL; write postgres:\/\//,
    );
  });
});
