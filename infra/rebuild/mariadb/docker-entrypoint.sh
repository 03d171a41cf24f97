#!/bin/bash
# Entrypoint of the local MariaDB rebuild (written for this project, not the official image's script). It honours
# the part of the official image's contract that docker-compose.yml and the testkit use (infra/rebuild/images.json):
#   - arguments starting with "-" are options for mariadbd;
#   - as root, it hands the data directory to `mysql` and re-runs itself as that user;
#   - on an empty /var/lib/mysql: root's password from MARIADB_ROOT_PASSWORD, or a random one
#     (MARIADB_RANDOM_ROOT_PASSWORD, printed as "GENERATED ROOT PASSWORD: ..."), root allowed from any host;
#     MARIADB_DATABASE created; MARIADB_USER / MARIADB_PASSWORD created with all rights on it; then the *.sql
#     and *.sh files of /docker-entrypoint-initdb.d in name order, on a server reachable by socket only;
#   - then mariadbd runs in the foreground with the given options.
# Anything else the official image offers (MYSQL_* aliases, *.sql.gz, secrets files, replication, upgrades) is
# not implemented: a variable of that family that is set stops the start with a message.
set -euo pipefail
log() { echo "$(date -u '+%Y-%m-%d %H:%M:%S') [rebuild-entrypoint] $*"; }
die() {
  echo "$(date -u '+%Y-%m-%d %H:%M:%S') [rebuild-entrypoint] error: $*" >&2
  exit 1
}

if [ "${1:0:1}" = '-' ]; then set -- mariadbd "$@"; fi
if [ "$1" != mariadbd ] && [ "$1" != mysqld ]; then exec "$@"; fi

for v in $(compgen -e); do
  case "$v" in
  MARIADB_ROOT_PASSWORD | MARIADB_RANDOM_ROOT_PASSWORD | MARIADB_DATABASE | MARIADB_USER | MARIADB_PASSWORD) ;;
  MARIADB_* | MYSQL_*) die "$v is not supported by this local rebuild (supported: MARIADB_ROOT_PASSWORD, MARIADB_RANDOM_ROOT_PASSWORD, MARIADB_DATABASE, MARIADB_USER, MARIADB_PASSWORD); see infra/rebuild/images.json" ;;
  esac
done

DATADIR=/var/lib/mysql
SOCKET=/run/mysqld/mysqld.sock
if [ "$(id -u)" = 0 ]; then
  mkdir -p /run/mysqld
  chown -R mysql:mysql "$DATADIR" /run/mysqld
  exec setpriv --reuid=mysql --regid=mysql --init-groups "$0" "$@"
fi

if [ ! -d "$DATADIR/mysql" ]; then
  root_pw="${MARIADB_ROOT_PASSWORD:-}"
  if [ -z "$root_pw" ] && [ -n "${MARIADB_RANDOM_ROOT_PASSWORD:-}" ]; then
    root_pw="$(head -c 18 /dev/urandom | base64 | tr -d '/+=')"
    echo "GENERATED ROOT PASSWORD: $root_pw"
  fi
  [ -n "$root_pw" ] || die "the database is uninitialized and no root password is set: set MARIADB_ROOT_PASSWORD or MARIADB_RANDOM_ROOT_PASSWORD"
  if [ -n "${MARIADB_USER:-}" ] && [ -z "${MARIADB_PASSWORD:-}" ]; then die "MARIADB_USER is set without MARIADB_PASSWORD"; fi

  log "initializing $DATADIR"
  mariadb-install-db --datadir="$DATADIR" --skip-test-db --auth-root-authentication-method=normal \
    --skip-name-resolve >/dev/null
  log "temporary server (socket only) for the first-start settings"
  "$@" --skip-networking --socket="$SOCKET" --skip-log-error >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 1 120); do
    mariadb-admin --socket="$SOCKET" -uroot ping >/dev/null 2>&1 && break
    kill -0 "$pid" 2>/dev/null || die "the temporary server exited during initialization"
    sleep 0.5
  done
  mariadb-admin --socket="$SOCKET" -uroot ping >/dev/null 2>&1 || die "the temporary server did not answer within 60 s"

  sq() { printf "'%s'" "${1//\'/\'\'}"; }
  {
    echo "SET @@SESSION.SQL_LOG_BIN=0;"
    echo "DELETE FROM mysql.global_priv WHERE User='' OR (User='root' AND Host NOT IN ('localhost'));"
    echo "FLUSH PRIVILEGES;"
    echo "ALTER USER 'root'@'localhost' IDENTIFIED BY $(sq "$root_pw");"
    echo "CREATE USER 'root'@'%' IDENTIFIED BY $(sq "$root_pw");"
    echo "GRANT ALL ON *.* TO 'root'@'%' WITH GRANT OPTION;"
    if [ -n "${MARIADB_DATABASE:-}" ]; then echo "CREATE DATABASE IF NOT EXISTS \`${MARIADB_DATABASE}\`;"; fi
    if [ -n "${MARIADB_USER:-}" ]; then
      echo "CREATE USER $(sq "$MARIADB_USER")@'%' IDENTIFIED BY $(sq "$MARIADB_PASSWORD");"
      if [ -n "${MARIADB_DATABASE:-}" ]; then echo "GRANT ALL ON \`${MARIADB_DATABASE}\`.* TO $(sq "$MARIADB_USER")@'%';"; fi
    fi
    echo "FLUSH PRIVILEGES;"
  } | mariadb --socket="$SOCKET" -uroot

  export MYSQL_PWD="$root_pw"
  for f in /docker-entrypoint-initdb.d/*; do
    [ -e "$f" ] || continue
    case "$f" in
    *.sql)
      log "running $f"
      mariadb --socket="$SOCKET" -uroot ${MARIADB_DATABASE:+"$MARIADB_DATABASE"} <"$f"
      ;;
    *.sh)
      log "running $f"
      # shellcheck disable=SC1090
      . "$f"
      ;;
    *) log "ignoring $f (only *.sql and *.sh are run)" ;;
    esac
  done
  mariadb-admin --socket="$SOCKET" -uroot shutdown
  wait "$pid" || true
  unset MYSQL_PWD
  log "initialized; starting mariadbd"
fi

exec "$@"
