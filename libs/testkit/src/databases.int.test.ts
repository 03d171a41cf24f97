// startDatabases beyond the README's example: PostgreSQL with the barrier table made twice (idempotent), its stop()
// taking the servers and the data away, and bad input refused before anything starts.
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'mysql2/promise';
import pg from 'pg';
import { expect, test } from 'vitest';
import { ensureBarrierTable } from './barrier.ts';
import { startDatabases } from './databases.ts';
import { TestkitError } from './errors.ts';
import { onPath } from './paths.ts';
import { portOpen } from './ports.ts';
import { startDtmStack } from './stack.ts';

test('a PostgreSQL of its own: the barrier table is made (twice without harm); stop() removes server and data', async () => {
  const dbs = await startDatabases({ servers: ['postgres'] });
  try {
    expect(Object.keys(dbs).sort()).toEqual(['dir', 'postgres', 'stop']);
    const pool = new pg.Pool({ connectionString: dbs.postgres.url, connectionTimeoutMillis: 5000 });
    try {
      await ensureBarrierTable({ postgres: pool });
      await pool.query(
        "INSERT INTO dtm_barrier.barrier (gid, branch_id, op, barrier_id) VALUES ('g', '01', 'action', '01')",
      );
      await ensureBarrierTable({ postgres: pool });
      const { rows } = await pool.query('SELECT gid, op FROM dtm_barrier.barrier');
      expect(rows).toEqual([{ gid: 'g', op: 'action' }]);
      expect((await pool.query('SHOW max_prepared_transactions')).rows).toEqual([{ max_prepared_transactions: '10' }]);
    } finally {
      await pool.end();
    }
  } finally {
    await dbs.stop();
    await dbs.stop(); // idempotent
  }
  expect(existsSync(dbs.dir)).toBe(false);
  expect(await portOpen(dbs.postgres.port)).toBe(false);
}, 180_000);

test("dtm's mysql store on the test's own MariaDB: startDtmStack({ store: 'mysql', mysql: dbs.mysql })", async () => {
  const dbs = await startDatabases({ servers: ['mysql'] });
  try {
    const stack = await startDtmStack({ backend: 'local', store: 'mysql', mysql: dbs.mysql });
    try {
      const conn = await createConnection({ uri: dbs.mysql.url, connectTimeout: 5000 });
      try {
        const [rows] = await conn.query('SHOW DATABASES LIKE ?', [stack.mysqlDatabase]);
        expect(rows).toHaveLength(1);
      } finally {
        await conn.end();
      }
    } finally {
      await stack.stop();
    }
  } finally {
    await dbs.stop();
  }
}, 180_000);

test("MariaDB's data dir initialisation failing once (as under heavy load) is tried again", async () => {
  // The real mariadb-install-db behind a wrapper on PATH that fails its first run.
  const real = onPath('mariadb-install-db');
  expect(real, 'mariadb-install-db on PATH').toBeDefined();
  const bin = mkdtempSync(join(tmpdir(), 'testkit-install-db-'));
  writeFileSync(
    join(bin, 'mariadb-install-db'),
    `#!/usr/bin/env bash\nif [ ! -e '${bin}/failed' ]; then : >'${bin}/failed'; echo 'injected failure' >&2; exit 1; fi\nexec '${real}' "$@"\n`,
  );
  chmodSync(join(bin, 'mariadb-install-db'), 0o755);
  const path = process.env.PATH;
  process.env.PATH = `${bin}:${path}`;
  try {
    const dbs = await startDatabases({ servers: ['mysql'] });
    try {
      expect(existsSync(join(bin, 'failed'))).toBe(true);
      const conn = await createConnection({ uri: dbs.mysql.url, connectTimeout: 5000 });
      await conn.end();
    } finally {
      await dbs.stop();
    }
  } finally {
    process.env.PATH = path;
    rmSync(bin, { recursive: true, force: true });
  }
}, 180_000);

test('bad input is refused before anything starts', async () => {
  await expect(startDatabases({ servers: ['oracle' as 'mysql'] })).rejects.toThrow(
    new TestkitError('unknown server "oracle"; valid: mysql, postgres, redis'),
  );
  await expect(startDatabases({ servers: [] })).rejects.toThrow(
    'servers is empty; name at least one of mysql, postgres, redis',
  );
});
