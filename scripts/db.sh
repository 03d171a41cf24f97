#!/usr/bin/env bash
# This repository's local databases, without Docker or systemd, for the barrier (and XA) tests and the example's
# database modes; installed by scripts/setup-db.sh:
#   MariaDB  127.0.0.1:3306  user root, password dtm-test
#   Postgres 127.0.0.1:5432  user postgres, password dtm-test, database postgres
#   Redis    127.0.0.1:6379  no password
# Data, logs, sockets and pid files live in .stack/db/ (git-ignored). `up` also creates the barrier schema
# (libs/dtmgrpc/sql/*.sql, idempotent) in MariaDB and Postgres; the bank's database, dtm_busi, is created by trans
# and the app when they start.
#   bash scripts/db.sh up|down|status
# The servers are run by the testkit's script (libs/testkit/scripts/db.sh: its settings are listed there), the one
# that startDatabases() of @dtm-gozero/testkit runs on free ports for a test of its own.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
export DB_STATE_DIR="${DB_STATE_DIR:-$root/.stack/db}"
export DB_MYSQL_INIT_SQL="${DB_MYSQL_INIT_SQL-$root/libs/dtmgrpc/sql/barrier.mysql.sql}"
export DB_PG_INIT_SQL="${DB_PG_INIT_SQL-$root/libs/dtmgrpc/sql/barrier.postgres.sql}"
export DB_INSTALL_HINT="${DB_INSTALL_HINT:-run: bash scripts/setup-db.sh}"
exec bash "$root/libs/testkit/scripts/db.sh" "$@"
