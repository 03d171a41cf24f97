#!/usr/bin/env bash
# A MariaDB, a PostgreSQL and a Redis without Docker or systemd: the servers of the testkit's startDatabases() (free
# ports, data in a temp dir) and, through scripts/db.sh, this repository's fixed-port ones.
#   up      start what does not already answer (a server that answers is reused as it is), wait until each
#           answers, then apply DB_MYSQL_INIT_SQL / DB_PG_INIT_SQL (files of idempotent SQL, if set) to it
#   down    stop exactly the servers `up` started (pid files in DB_STATE_DIR)
#   status  show what answers
# Settings (environment):
#   DB_STATE_DIR (required)  data, logs, sockets and pid files
#   DB_SERVERS               which to start: any of "mariadb postgres redis" (default: all three)
#   DB_MYSQL_PORT 3306, DB_PG_PORT 5432, DB_REDIS_PORT 6379; DB_WAIT_S 60 (each wait's bound)
#   DB_OWN_ONLY=1            refuse to reuse a server that already answers on a port
#   DB_INSTALL_HINT          what to say when a server is not installed
# Accounts: MariaDB root / dtm-test, PostgreSQL postgres / dtm-test (database postgres), Redis without a password.
# As root, MariaDB and Postgres run as the `mysql` / `postgres` system users (Postgres refuses root); otherwise as
# the invoking user.
set -euo pipefail
# shellcheck source=wait.sh
source "$(dirname "${BASH_SOURCE[0]}")/wait.sh"
[ -n "${DB_STATE_DIR:-}" ] || { echo "db: set DB_STATE_DIR to the folder for the servers' data (or run this repository's scripts/db.sh)" >&2; exit 2; }
state="$DB_STATE_DIR"
SERVERS="${DB_SERVERS:-mariadb postgres redis}"
INSTALL_HINT="${DB_INSTALL_HINT:-on Debian/Ubuntu: sudo apt-get install mariadb-server postgresql redis-server}"
WAIT_S="${DB_WAIT_S:-60}"

MYSQL_PORT="${DB_MYSQL_PORT:-3306}"
MYSQL_PASSWORD=dtm-test
PG_PORT="${DB_PG_PORT:-5432}"
PG_PASSWORD=dtm-test
REDIS_PORT="${DB_REDIS_PORT:-6379}"
OWN_ONLY="${DB_OWN_ONLY:-}"

say() { echo "db: $*"; }
die() { echo "db: $*" >&2; exit 1; }
is_root() { [ "$(id -u)" = 0 ]; }
# With DB_OWN_ONLY=1 a server already answering is not ours to use (the test suite's databases are its own).
not_ours() { [ "$OWN_ONLY" = 1 ] && die "$1 already answers on 127.0.0.1:$2, but DB_OWN_ONLY=1 wants a server of its own there"; return 0; }
port_busy() { timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$1" 2>/dev/null; }
# Every probe has a bound: something else on the port may accept a connection and never answer.
probe() { timeout 5 "$@"; }
alive() { [ -f "$state/$1.pid" ] && kill -0 "$(cat "$state/$1.pid")" 2>/dev/null; }
first_cmd() { local c; for c in "$@"; do if command -v "$c" >/dev/null 2>&1; then command -v "$c"; return 0; fi; [ -x "$c" ] && { echo "$c"; return 0; }; done; return 1; }

# Runs a command as the given system user when we are root, else as ourselves.
as_user() { # user cmd...
  local u="$1"; shift
  if is_root; then setpriv --reuid="$u" --regid="$u" --init-groups -- "$@"; else "$@"; fi
}

wait_for() { wait_up "db: $1" "$(cat "$state/$1.pid")" "$WAIT_S" "$3" "$2"; } # name check-fn log

# ---------------------------------------------------------------- MariaDB
MYSQL_CLI="$(first_cmd mariadb mysql || true)"
MYSQL_ADMIN="$(first_cmd mariadb-admin mysqladmin || true)"
MYSQLD="$(first_cmd mariadbd mysqld /usr/sbin/mariadbd /usr/sbin/mysqld || true)"
MYSQL_INSTALL_DB="$(first_cmd mariadb-install-db mysql_install_db || true)"
my_dir="$state/mariadb"
my_sock="$my_dir/mysqld.sock" # inside the data dir: owned by the server's user

mysql_tcp() { "$MYSQL_CLI" --no-defaults --protocol=TCP -h 127.0.0.1 -P "$MYSQL_PORT" -uroot "-p$MYSQL_PASSWORD" "$@"; }
# "alive" even when the credentials are refused: that only says something listens and speaks MySQL.
mysql_alive() { [ -n "$MYSQL_ADMIN" ] && probe "$MYSQL_ADMIN" --no-defaults --protocol=TCP -h 127.0.0.1 -P "$MYSQL_PORT" -uroot --connect-timeout=2 ping >/dev/null 2>&1; }
mysql_ok() { [ -n "$MYSQL_CLI" ] && probe "$MYSQL_CLI" --no-defaults --protocol=TCP -h 127.0.0.1 -P "$MYSQL_PORT" -uroot "-p$MYSQL_PASSWORD" --connect-timeout=2 -N -e 'select 1' >/dev/null 2>&1; }

mysql_up() {
  if mysql_ok; then
    alive mariadb || not_ours mariadb "$MYSQL_PORT"
    say "mariadb: already answering at 127.0.0.1:$MYSQL_PORT$(alive mariadb && echo " (ours, pid $(cat "$state/mariadb.pid"))" || echo ' (left as it is)')"
  else
    [ -n "$MYSQLD" ] && [ -n "$MYSQL_INSTALL_DB" ] && [ -n "$MYSQL_CLI" ] || die "MariaDB is not installed; $INSTALL_HINT"
    if mysql_alive || port_busy "$MYSQL_PORT"; then
      die "port $MYSQL_PORT answers but not as root/$MYSQL_PASSWORD (a foreign MySQL/MariaDB?); stop it or set that password, then retry"
    fi
    local u=()
    local owner
    owner="$(id -un)"
    if is_root; then owner=mysql; u=(--user=mysql); fi
    if [ ! -d "$my_dir/mysql" ]; then
      say "mariadb: initialising $my_dir"
      # Twice at most: on a machine under heavy load its bootstrap server has been seen to fail once.
      local try
      for try in 1 2; do
        rm -rf "$my_dir" && mkdir -p "$my_dir"
        chown "$owner" "$my_dir"
        if "$MYSQL_INSTALL_DB" --no-defaults --datadir="$my_dir" "${u[@]}" --auth-root-authentication-method=normal \
          --skip-test-db >"$state/mariadb-init.log" 2>&1; then break; fi
        if [ "$try" = 2 ]; then
          grep -iE 'error|fail' "$state/mariadb-init.log" | head -n 10 >&2 || true
          tail -n 25 "$state/mariadb-init.log" >&2
          die "mariadb-install-db failed twice (log: $state/mariadb-init.log)"
        fi
        say "mariadb: mariadb-install-db failed; trying once more"
      done
    fi
    rm -f "$my_sock"
    setsid "$MYSQLD" --no-defaults --datadir="$my_dir" "${u[@]}" --bind-address=127.0.0.1 --port="$MYSQL_PORT" \
      --socket="$my_sock" --pid-file="$my_dir/mysqld.pid" \
      --skip-name-resolve --innodb-buffer-pool-size=64M --innodb-log-file-size=16M \
      --character-set-server=utf8mb4 >"$state/mariadb.log" 2>&1 &
    echo $! >"$state/mariadb.pid"
    wait_for mariadb mysql_alive "$state/mariadb.log"
    if ! mysql_ok; then
      # fresh data dir: root has no password and only exists for localhost; give it ours, for TCP too
      "$MYSQL_CLI" --no-defaults -S "$my_sock" -uroot -e "
        ALTER USER 'root'@'localhost' IDENTIFIED BY '$MYSQL_PASSWORD';
        CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '$MYSQL_PASSWORD';
        ALTER USER 'root'@'127.0.0.1' IDENTIFIED BY '$MYSQL_PASSWORD';
        GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
        FLUSH PRIVILEGES;" || die "could not set the root password of the new MariaDB (see $state/mariadb.log)"
      mysql_ok || die "mariadb answers but refuses root/$MYSQL_PASSWORD"
    fi
    say "mariadb: started (pid $(cat "$state/mariadb.pid")) at 127.0.0.1:$MYSQL_PORT, log $state/mariadb.log"
  fi
  if [ -n "${DB_MYSQL_INIT_SQL:-}" ]; then mysql_tcp <"$DB_MYSQL_INIT_SQL" || die "applying $DB_MYSQL_INIT_SQL to MariaDB failed"; fi
}

# ---------------------------------------------------------------- Postgres
pg_bin_dir() {
  local d
  d="$( (ls -d /usr/lib/postgresql/*/bin 2>/dev/null || true) | sort -V | tail -1)"
  if [ -n "$d" ] && [ -x "$d/postgres" ]; then echo "$d"; return 0; fi
  d="$(dirname "$(command -v postgres 2>/dev/null || echo /nonexistent/postgres)")"
  [ -x "$d/postgres" ] && echo "$d"
}
PG_BIN="$(pg_bin_dir || true)"
pg_dir="$state/postgres"
pg_run="$state/postgres-run"
PSQL="$(first_cmd psql "$PG_BIN/psql" || true)"

pg_psql() { PGPASSWORD="$PG_PASSWORD" PGCONNECT_TIMEOUT=2 PGOPTIONS="-c client_min_messages=warning" "$PSQL" -X -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres "$@"; }
pg_alive() { port_busy "$PG_PORT" && { [ -z "$PG_BIN" ] || probe "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -t 2 >/dev/null 2>&1; }; }
pg_ok() { [ -n "$PSQL" ] && PGPASSWORD="$PG_PASSWORD" PGCONNECT_TIMEOUT=2 probe "$PSQL" -X -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -tAc 'select 1' >/dev/null 2>&1; }

pg_up() {
  if pg_ok; then
    alive postgres || not_ours postgres "$PG_PORT"
    say "postgres: already answering at 127.0.0.1:$PG_PORT$(alive postgres && echo " (ours, pid $(cat "$state/postgres.pid"))" || echo ' (left as it is)')"
  else
    [ -n "$PG_BIN" ] && [ -n "$PSQL" ] || die "PostgreSQL is not installed; $INSTALL_HINT"
    if port_busy "$PG_PORT"; then
      die "port $PG_PORT answers but not as postgres/$PG_PASSWORD (a foreign Postgres?); stop it or set that password, then retry"
    fi
    local owner
    owner="$(id -un)"
    is_root && owner=postgres
    mkdir -p "$pg_run"
    chown "$owner" "$pg_run"
    if [ ! -f "$pg_dir/PG_VERSION" ]; then
      say "postgres: initialising $pg_dir"
      rm -rf "$pg_dir" && mkdir -p "$pg_dir"
      chown "$owner" "$pg_dir" && chmod 700 "$pg_dir"
      printf '%s\n' "$PG_PASSWORD" >"$pg_run/pwfile"
      chown "$owner" "$pg_run/pwfile"
      as_user "$owner" "$PG_BIN/initdb" -D "$pg_dir" -U postgres --pwfile="$pg_run/pwfile" -E UTF8 --locale=C \
        --auth-local=trust --auth-host=scram-sha-256 >"$state/postgres-init.log" 2>&1 ||
        { rm -f "$pg_run/pwfile"; tail -n 25 "$state/postgres-init.log" >&2; die "initdb failed"; }
      rm -f "$pg_run/pwfile"
    fi
    touch "$state/postgres.log" && chown "$owner" "$state/postgres.log"
    # -w waits on the postmaster's own readiness report; the TCP check below confirms it.
    # max_prepared_transactions > 0: XA branches on Postgres use PREPARE TRANSACTION.
    as_user "$owner" "$PG_BIN/pg_ctl" -D "$pg_dir" -l "$state/postgres.log" -w -t "$WAIT_S" -s \
      -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $pg_run -c fsync=off -c max_prepared_transactions=10" start ||
      { tail -n 25 "$state/postgres.log" >&2; die "postgres did not start"; }
    head -1 "$pg_dir/postmaster.pid" >"$state/postgres.pid"
    wait_for postgres pg_ok "$state/postgres.log"
    say "postgres: started (pid $(cat "$state/postgres.pid")) at 127.0.0.1:$PG_PORT, log $state/postgres.log"
  fi
  if [ -n "${DB_PG_INIT_SQL:-}" ]; then pg_psql -v ON_ERROR_STOP=1 -f "$DB_PG_INIT_SQL" >/dev/null || die "applying $DB_PG_INIT_SQL to Postgres failed"; fi
}

# ---------------------------------------------------------------- Redis
REDIS_SERVER="$(first_cmd redis-server || true)"
REDIS_CLI="$(first_cmd redis-cli || true)"
redis_dir="$state/redis"
redis_ok() { [ -n "$REDIS_CLI" ] && [ "$(probe "$REDIS_CLI" -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; }

redis_up() {
  if redis_ok; then
    alive redis || not_ours redis "$REDIS_PORT"
    say "redis: already answering at 127.0.0.1:$REDIS_PORT$(alive redis && echo " (ours, pid $(cat "$state/redis.pid"))" || echo ' (left as it is)')"
    return 0
  fi
  [ -n "$REDIS_SERVER" ] && [ -n "$REDIS_CLI" ] || die "Redis is not installed; $INSTALL_HINT"
  port_busy "$REDIS_PORT" && die "port $REDIS_PORT is taken by something that does not answer Redis PING; free it and retry"
  mkdir -p "$redis_dir"
  # Foreground server in its own session (no --daemonize), so that $! is the server itself.
  setsid "$REDIS_SERVER" --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$redis_dir" --save '' --appendonly no \
    --daemonize no --logfile '' >"$state/redis.log" 2>&1 &
  echo $! >"$state/redis.pid"
  wait_for redis redis_ok "$state/redis.log"
  say "redis: started (pid $(cat "$state/redis.pid")) at 127.0.0.1:$REDIS_PORT, log $state/redis.log"
}

# ---------------------------------------------------------------- commands
stop_one() { # name
  local f="$state/$1.pid" sig=TERM
  [ -f "$f" ] || return 0
  # SIGTERM is a clean shutdown for all three (for postgres: "smart"; SIGINT would be "fast")
  if [ "$1" = postgres ]; then sig=INT; fi
  if stop_pid "$(cat "$f")" "$sig" "$WAIT_S"; then say "$1: stopped (pid $(cat "$f"))"; fi
  rm -f "$f"
}

up() {
  mkdir -p "$state"
  # As root the servers run as mysql/postgres, who must be able to reach their folders inside $state.
  if is_root; then chmod 755 "$state"; fi
  # The three start in parallel (initialising a data dir takes seconds each); any failure fails `up`.
  local pids=() failed=0 p s
  for s in $SERVERS; do
    case "$s" in
      mariadb) mysql_up & pids+=($!) ;;
      postgres) pg_up & pids+=($!) ;;
      redis) redis_up & pids+=($!) ;;
      *) die "DB_SERVERS: unknown server '$s'; valid: mariadb postgres redis" ;;
    esac
  done
  for p in "${pids[@]}"; do wait "$p" || failed=1; done
  [ "$failed" = 0 ] || die "not every database is up (see above)"
  local up=()
  for s in $SERVERS; do
    case "$s" in
      mariadb) up+=("mariadb 127.0.0.1:$MYSQL_PORT (root/$MYSQL_PASSWORD)") ;;
      postgres) up+=("postgres 127.0.0.1:$PG_PORT (postgres/$PG_PASSWORD)") ;;
      redis) up+=("redis 127.0.0.1:$REDIS_PORT") ;;
    esac
  done
  say "up — $(IFS=,; echo "${up[*]}" | sed 's/,/, /g')"
}

down() {
  # in parallel: each server takes a second or two to shut down cleanly
  stop_one redis &
  stop_one postgres &
  stop_one mariadb &
  wait
  say "down"
}

status() {
  local s
  for s in $SERVERS; do
    local ok
    case "$s" in mariadb) ok=mysql_ok ;; postgres) ok=pg_ok ;; redis) ok=redis_ok ;; esac
    if "$ok"; then
      echo "$s: up$(alive "$s" && echo " (ours, pid $(cat "$state/$s.pid"))" || echo ' (not started by db.sh)')"
    else
      echo "$s: down"
    fi
  done
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  *) echo "usage: db.sh up|down|status" >&2; exit 2 ;;
esac
