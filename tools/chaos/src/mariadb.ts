// A MariaDB of the caller's own on a given port (the chaos suite's store and bank; never the user's server).
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type MysqlServer, portOpen, waitUntil } from '@dtm-gozero/testkit';
import { Service } from './service.ts';

/** A MariaDB of its own on `port`, data in `dir` (for the chaos suite: never the user's server). */
export async function startOwnMariadb(
  dir: string,
  port: number,
  detached = false,
): Promise<{ server: MysqlServer; service: Service }> {
  const password = 'dtm-test';
  const data = join(dir, 'mariadb');
  mkdirSync(data, { recursive: true });
  const asRoot = process.getuid?.() === 0;
  if (asRoot) execFileSync('chown', ['-R', 'mysql', dir]);
  const user = asRoot ? ['--user=mysql'] : [];
  execFileSync(
    'mariadb-install-db',
    ['--no-defaults', `--datadir=${data}`, ...user, '--auth-root-authentication-method=normal', '--skip-test-db'],
    {
      stdio: 'ignore',
      timeout: 60_000,
    },
  );
  const sock = join(data, 'mysqld.sock');
  const service = new Service(
    dir,
    'mariadb',
    'mariadbd',
    [
      '--no-defaults',
      `--datadir=${data}`,
      ...user,
      '--bind-address=127.0.0.1',
      `--port=${port}`,
      `--socket=${sock}`,
      '--skip-name-resolve',
      '--innodb-buffer-pool-size=128M',
      '--max-connections=500',
    ],
    () => portOpen(port),
    { detached },
  );
  await service.start(60_000);
  const sql = `ALTER USER 'root'@'localhost' IDENTIFIED BY '${password}'; CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '${password}'; ALTER USER 'root'@'127.0.0.1' IDENTIFIED BY '${password}'; GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION; FLUSH PRIVILEGES;`;
  await waitUntil(
    async () => {
      execFileSync('mariadb', ['--no-defaults', '-S', sock, '-uroot', '-e', sql], { stdio: 'ignore', timeout: 5000 });
      return true;
    },
    20_000,
    'setting the MariaDB root password',
  );
  return { server: { host: '127.0.0.1', port, user: 'root', password }, service };
}
