#!/usr/bin/env bash
# Installs the databases the barrier (and later XA) tests run against, from Debian packages, without Docker:
#   MariaDB (mariadb-server), PostgreSQL (postgresql), Redis (redis-server).
# Idempotent: a database whose server binary is already present is skipped. The packages' own services are not
# used (no systemd here); scripts/db.sh starts project-owned servers with data under .stack/db/.
set -euo pipefail

step() { printf '\n==> %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

have_mariadb() { command -v mariadbd >/dev/null 2>&1 || command -v mysqld >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] || [ -x /usr/sbin/mysqld ]; }
have_postgres() { compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null; }
have_redis() { command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1; }

missing=()
if have_mariadb; then step "mariadb: already installed"; else missing+=(mariadb-server mariadb-client); fi
if have_postgres; then step "postgresql: already installed ($(compgen -G '/usr/lib/postgresql/*/bin/postgres' | head -1))"; else missing+=(postgresql); fi
if have_redis; then step "redis: $(redis-server --version | cut -d' ' -f1-3) already installed"; else missing+=(redis-server); fi

if [ "${#missing[@]}" -gt 0 ]; then
  step "installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  # policy-rc.d 101 keeps the packages' maintainer scripts from trying to start their services (there is no
  # init system to own them; db.sh starts its own servers).
  rc=/usr/sbin/policy-rc.d
  made_rc=0
  if [ ! -e "$rc" ]; then
    printf '#!/bin/sh\nexit 101\n' | as_root tee "$rc" >/dev/null && as_root chmod +x "$rc" && made_rc=1
  fi
  status=0
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || status=$?
  if [ "$made_rc" = 1 ]; then as_root rm -f "$rc"; fi
  [ "$status" = 0 ] || { echo "setup-db: apt-get install failed ($status)" >&2; exit "$status"; }
fi

have_mariadb || { echo "setup-db: mariadb server binary not found after install" >&2; exit 1; }
have_postgres || { echo "setup-db: postgres server binary not found after install" >&2; exit 1; }
have_redis || { echo "setup-db: redis-server not found after install" >&2; exit 1; }
step "setup-db done: start them with: bash scripts/db.sh up"
