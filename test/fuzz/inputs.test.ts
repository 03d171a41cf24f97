// Fuzz of every input a user or a peer hands the services before any server is involved: config YAML (trans's and
// go-zero's loaders: keys in any case, wrong types, huge values, text that is not YAML), DSNs, targets and branch
// URLs, and dtm's gRPC metadata. Each input must give a result or an Error that names the input and the fix —
// never an internal TypeError/RangeError, never a hang (each case is timed), never a password in a message.
import { rmSync } from 'node:fs';
import { parseMysqlDataSource, parsePostgresDataSource } from '@dtm-gozero/bank';
import { tempFile } from '@dtm-gozero/devkit';
import { barrierFromMetadata, branchInfoFromGrpc } from '@dtm-gozero/dtmgrpc';
import { loadClientConf, loadServerConf, parseServerMethod, parseTarget, TargetError } from '@dtm-gozero/gozero';
import { Metadata } from '@grpc/grpc-js';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { stringify } from 'yaml';
// trans's own loader (its server conf and the bank's section): an app's config has no public form
import { loadConfig } from '../../apps/trans/src/internal/config/config.ts';
import { budgetMs, fuzzParams } from '../property/params.ts';

const RUNS = 150;
/** Each property's budget, scaled with the runs `npm run fuzz` asks for. */
const TEST_MS = budgetMs(RUNS, 30_000);
/** One synchronous parse of a small input: far above what any takes, far below a hang. */
const CASE_MS = 1000;

/** Runs `fn`; returns its result or the Error it threw, failing on a non-Error throw or a slow case. */
function outcome<T>(fn: () => T): T | Error {
  const started = performance.now();
  let r: T | Error;
  try {
    r = fn();
  } catch (err) {
    if (!(err instanceof Error)) throw new Error(`threw a non-Error: ${String(err)}`);
    r = err;
  }
  const ms = performance.now() - started;
  if (ms > CASE_MS) throw new Error(`took ${Math.round(ms)} ms`);
  return r;
}

/** A bug's error (a built-in one) that reached the user instead of a message about their input. */
const internal = (err: Error): boolean =>
  err instanceof TypeError ||
  err instanceof RangeError ||
  err instanceof SyntaxError ||
  err instanceof ReferenceError ||
  err instanceof URIError;

/** A key spelled in a random case, as YAML written by hand may have it (go-zero matches keys case-insensitively). */
const anyCase = (key: string): fc.Arbitrary<string> =>
  fc
    .array(fc.boolean(), { minLength: key.length, maxLength: key.length })
    .map((up) => [...key].map((ch, i) => (up[i] ? ch.toUpperCase() : ch.toLowerCase())).join(''));

const hostile: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, 1e308, -1e308, 2 ** 64, 0.5, '', ' ', '\u0000', 'x'.repeat(100_000)),
  fc.string(),
  fc.integer(),
  fc.double(),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.string(), { maxKeys: 3 }),
);

const listenOn = fc.oneof(
  fc.constant('127.0.0.1:50081'),
  fc.constant('0.0.0.0:0'),
  fc.string(),
  fc.constant('[::1]:1'),
);
const dsn = fc.oneof(
  fc.constant('root:pw@tcp(127.0.0.1:3306)/dtm_busi?parseTime=true'),
  fc.constant('mysql://root:pw@127.0.0.1:3306/dtm_busi'),
  fc.constant('postgres://postgres:pw@127.0.0.1:5432/dtm_busi'),
  fc.string(),
  fc.webUrl(),
);

/** A trans YAML: known keys in any case with fitting or hostile values, plus unknown keys. */
const transYaml = fc
  .record(
    {
      Name: fc.oneof(fc.constant('trans.rpc'), hostile),
      ListenOn: fc.oneof(listenOn, hostile),
      Mode: fc.oneof(fc.constantFrom('dev', 'test', 'pro', 'PRO'), hostile),
      Timeout: fc.oneof(fc.nat(), hostile),
      Health: fc.oneof(fc.boolean(), hostile),
      Etcd: fc.oneof(
        fc.record(
          { Hosts: fc.oneof(fc.constant(['127.0.0.1:2379']), hostile), Key: fc.oneof(fc.constant('trans'), hostile) },
          { requiredKeys: [] },
        ),
        hostile,
      ),
      Mysql: fc.oneof(fc.record({ DataSource: fc.oneof(dsn, hostile) }, { requiredKeys: [] }), hostile),
      Postgres: fc.oneof(fc.record({ DataSource: fc.oneof(dsn, hostile) }, { requiredKeys: [] }), hostile),
      Junk: hostile,
    },
    { requiredKeys: [] },
  )
  .chain((doc) =>
    fc
      .tuple(...Object.keys(doc).map((k) => anyCase(k)))
      .map((keys) => Object.fromEntries(Object.values(doc).map((v, i) => [keys[i] as string, v]))),
  );

function withFile<T>(text: string, fn: (file: string) => T): T {
  const file = tempFile('fuzz.yaml', text);
  try {
    return fn(file);
  } finally {
    rmSync(file, { force: true });
  }
}

describe('config YAML', () => {
  test(
    'trans and go-zero loaders: a config or an error naming the file, for any document',
    () => {
      fc.assert(
        fc.property(
          fc.oneof(
            transYaml.map((d) => stringify(d)),
            fc.string({ maxLength: 300 }),
          ),
          (text) =>
            withFile(text, (file) => {
              for (const load of [loadConfig, loadServerConf, loadClientConf]) {
                const r = outcome(() => load(file));
                if (r instanceof Error) {
                  expect(internal(r), `${load.name}: internal error ${r.name}: ${r.message}`).toBe(false);
                  expect(r.message, `${load.name}`).toContain(`config ${file}`);
                }
              }
            }),
        ),
        fuzzParams(RUNS),
      );
    },
    TEST_MS,
  );

  test(
    'keys in any case load exactly as spelled in go-zero’s case (a `MySQL:` key moves money like `Mysql:`)',
    () => {
      const canonical = {
        Name: 'trans.rpc',
        ListenOn: '127.0.0.1:50081',
        Mode: 'dev',
        Timeout: 3000,
        Health: false,
        Etcd: { Hosts: ['127.0.0.1:2379'], Key: 'trans', User: 'u', Pass: 'p' },
      };
      const rename = (o: Record<string, unknown>, keys: Record<string, string>) =>
        Object.fromEntries(Object.entries(o).map(([k, v]) => [keys[k] ?? k, v]));
      const keysOf = (o: object) => fc.tuple(...Object.keys(o).map((k) => anyCase(k).map((c) => [k, c] as const)));
      fc.assert(
        fc.property(
          fc.constantFrom<[string, string]>(
            ['Mysql', 'root:pw@tcp(127.0.0.1:3306)/dtm_busi'],
            ['Postgres', 'postgres://postgres:pw@127.0.0.1:5432/dtm_busi'],
          ),
          keysOf(canonical),
          keysOf(canonical.Etcd),
          anyCase('Mysql'),
          anyCase('Postgres'),
          anyCase('DataSource'),
          ([db, ds], top, etcd, mysqlKey, pgKey, dsKey) => {
            const want = withFile(stringify({ ...canonical, [db]: { DataSource: ds } }), (f) => loadConfig(f));
            expect(want.Bank).toBe(true);
            const doc = rename(canonical, Object.fromEntries(top));
            const etcdKey = Object.fromEntries(top).Etcd as string;
            doc[etcdKey] = rename(canonical.Etcd, Object.fromEntries(etcd));
            doc[db === 'Mysql' ? mysqlKey : pgKey] = { [dsKey]: ds };
            const got = withFile(stringify(doc), (f) => outcome(() => loadConfig(f)));
            expect(got).not.toBeInstanceOf(Error);
            expect(got).toEqual(want);
          },
        ),
        fuzzParams(RUNS),
      );
    },
    TEST_MS,
  );
});

describe('DSNs', () => {
  // What a password may hold: every character go-sql-driver's DSN and a URL make special, and ordinary ones.
  const password = fc
    .array(fc.constantFrom('/', ':', '@', '%', '?', '#', '(', ')', 'a', 'Z', '9', '-', '_', '!', ' '), {
      minLength: 4,
      maxLength: 16,
    })
    .map((cs) => `S3cr${cs.join('')}`);
  const around = fc.record({
    form: fc.constantFrom('go', 'mysql-url', 'pg-url'),
    user: fc.constantFrom('root', 'bank_user'),
    host: fc.constantFrom('127.0.0.1', 'db.example', '', '[::1]', 'h:1:2'),
    port: fc.oneof(fc.constantFrom('3306', '0', '65536', '-1', 'x', ''), fc.nat().map(String)),
    db: fc.oneof(fc.constantFrom('dtm_busi', '', 'a-b', 'x;drop', '1db'), fc.string({ maxLength: 10 })),
    tail: fc.constantFrom('', '?parseTime=true', '?tls=true', '?sslmode=require', '?', '#frag'),
  });

  test(
    'parse to a source or an error naming the field; the password never appears in a message or `shown`',
    () => {
      fc.assert(
        fc.property(around, password, (p, pw) => {
          const enc = p.form === 'go' ? pw : encodeURIComponent(pw);
          const text =
            p.form === 'go'
              ? `${p.user}:${enc}@tcp(${p.host}:${p.port})/${p.db}${p.tail}`
              : `${p.form === 'pg-url' ? 'postgres' : 'mysql'}://${p.user}:${enc}@${p.host}:${p.port}/${p.db}${p.tail}`;
          const parse = p.form === 'pg-url' ? parsePostgresDataSource : parseMysqlDataSource;
          const r = outcome(() => parse(text, 'config fuzz.yaml'));
          if (r instanceof Error) {
            expect(internal(r), r.message).toBe(false);
            expect(r.message).toMatch(/config fuzz\.yaml: (Mysql|Postgres)\.DataSource/);
            expect(r.message, 'password in an error').not.toContain(pw);
            expect(r.message, 'password in an error').not.toContain(enc);
          } else {
            expect(r.shown, 'password in `shown`').not.toContain(pw);
            expect(r.shown, 'password in `shown`').not.toContain(enc);
          }
        }),
        {
          ...fuzzParams(RUNS),
          // what it found (issue #16's fixes): "://" inside a password, a stray "%" in a URL's database name
          examples: [
            [
              { form: 'go', user: 'bank_user', host: '127.0.0.1', port: '-1', db: '1db', tail: '#frag' },
              'S3cr/://99#)_9a',
            ],
            [
              { form: 'mysql-url', user: 'bank_user', host: '[::1]', port: '3306', db: "yqa'b{uX_%", tail: '' },
              'S3cr!:#9Z_Z( !_a?:',
            ],
            [{ form: 'go', user: 'root', host: '127.0.0.1', port: '3306', db: 'dtm_busi', tail: '' }, 'S3cr/:@%'],
          ],
        },
      );
    },
    TEST_MS,
  );

  test(
    'any string: a source or an error naming the field',
    () => {
      fc.assert(
        fc.property(fc.oneof(fc.string(), fc.webUrl(), fc.string({ unit: 'binary' })), (text) => {
          for (const parse of [parseMysqlDataSource, parsePostgresDataSource]) {
            const r = outcome(() => parse(text, 'config fuzz.yaml'));
            if (r instanceof Error) expect(r.message).toMatch(/config fuzz\.yaml: (Mysql|Postgres)\.DataSource/);
          }
        }),
        fuzzParams(RUNS),
      );
    },
    TEST_MS,
  );
});

describe('targets and branch URLs', () => {
  const part = fc.oneof(
    fc.constantFrom(
      'etcd://',
      'discov://',
      'direct:///',
      'dns:///',
      '127.0.0.1:2379',
      ',',
      '/',
      'trans',
      '?key=x',
      ':',
    ),
    fc.string({ maxLength: 6 }),
  );
  const target = fc.oneof(
    fc.array(part, { maxLength: 6 }).map((p) => p.join('')),
    fc.string(),
    fc.webUrl(),
  );

  test(
    'parseTarget and parseServerMethod: a result or a TargetError quoting the input',
    () => {
      fc.assert(
        fc.property(target, fc.constantFrom('', '/trans.TransSvc/TransOut', '/x', '/a.B/'), (t, method) => {
          const r = outcome(() => parseTarget(t));
          if (r instanceof Error) {
            expect(r).toBeInstanceOf(TargetError);
            expect(r.message.startsWith('target "'), r.message).toBe(true);
          }
          const url = `${t}${method}`;
          const m = outcome(() => parseServerMethod(url));
          if (m instanceof Error) {
            expect(m).toBeInstanceOf(TargetError);
            // it quotes the branch URL, or the target part of it that is wrong
            expect(/^(branch URL|target) "/.test(m.message), m.message).toBe(true);
          }
        }),
        fuzzParams(RUNS),
      );
    },
    TEST_MS,
  );
});

describe("dtm's gRPC metadata", () => {
  const DTM_KEYS = ['dtm-trans_type', 'dtm-gid', 'dtm-branch_id', 'dtm-op', 'dtm-dtm', 'dtm-phase2_url'];
  const value = fc.oneof(
    fc.constantFrom('', 'saga', 'tcc', 'action', 'compensate', '01', 'x'.repeat(70_000), ' '),
    fc.string({ unit: fc.constantFrom(...'abc-_.019 ~') }),
  );
  const entries = fc.array(
    fc.tuple(
      fc.oneof(fc.constantFrom(...DTM_KEYS, 'DTM-GID', 'dtm-gid-bin'), fc.stringMatching(/^[a-z0-9_.-]{1,12}$/)),
      value,
    ),
    { maxLength: 12 },
  );

  test(
    'missing, duplicated, huge, binary: a barrier, or an error naming the metadata that is missing or too long',
    () => {
      fc.assert(
        fc.property(entries, (list) => {
          const md = new Metadata();
          for (const [k, v] of list) {
            if (k.endsWith('-bin')) md.add(k, Buffer.from(v));
            else md.add(k, v);
          }
          const bb = outcome(() => barrierFromMetadata(md));
          if (bb instanceof Error) {
            expect(bb.name).toBe('DtmInputError');
            expect(bb.message).toMatch(/metadata .*missing or empty|of \d+ characters \(at most \d+\)/);
          } else {
            expect(bb.gid).toBe(md.get('dtm-gid')[0]);
          }
          const info = outcome(() => branchInfoFromGrpc({ metadata: md }, ['gid', 'op']));
          if (info instanceof Error) expect(info.message).toMatch(/metadata lacks/);
        }),
        fuzzParams(RUNS),
      );
    },
    TEST_MS,
  );
});
