#!/usr/bin/env bash
# Docker for this project (`npm run docker:setup`), idempotent and cached:
#   1. an engine: the one that answers, else Docker Engine from Debian (docker.io) started as
#      `dockerd --bridge=none --iptables=false --ip6tables=false` (host networking only: no bridge, no NAT rules;
#      every container of this project runs with network_mode host);
#   2. the Compose v2 plugin, pinned, built once from the Go module proxy and cached under ~/.cache (Debian 12
#      ships only the old Python docker-compose 1.x);
#   3. the images that docker-compose.yml and the testkit name: used when present, pulled when a registry
#      answers, else rebuilt locally under the same name from Debian packages (scripts/docker-images.sh).
# Subcommands: (none)|setup  all of the above;  engine  1 and 2 only;  stop  stop the dockerd this script started;
#              status  one line per part.
# Exit 1 with the reason and the fix when a part cannot be had; DOCKER_SETUP_OPTIONAL=1 turns "no engine can
# start here" into exit 0 with that message (the Docker tests then skip and say why).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=../libs/testkit/scripts/wait.sh
source "$root/libs/testkit/scripts/wait.sh"
COMPOSE_VERSION="v2.29.7"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/dtm-gozero-ts"
COMPOSE_CACHE="$CACHE/docker-compose-$COMPOSE_VERSION"
PLUGIN_DIR="${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins"
DOCKERD_PID="${DOCKERD_PID_FILE:-/run/dtm-gozero-ts-dockerd.pid}"
DOCKERD_LOG="${DOCKERD_LOG:-/var/log/dtm-gozero-ts-dockerd.log}"
START_WAIT_S="${DOCKERD_WAIT_S:-40}"

step() { printf '\n==> %s\n' "$*"; }
fail() {
  echo "docker-setup: $*" >&2
  exit 1
}
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo "$@"; else return 1; fi; }
engine_ok() { command -v docker >/dev/null 2>&1 && timeout 10 docker info >/dev/null 2>&1; }
compose_ok() { timeout 20 docker compose version 2>/dev/null | grep -q "$COMPOSE_VERSION\|version v2\."; }

no_engine() {
  if [ "${DOCKER_SETUP_OPTIONAL:-}" = 1 ]; then
    echo "docker-setup: $* (DOCKER_SETUP_OPTIONAL=1: continuing; the Docker tests will skip and say why)" >&2
    exit 0
  fi
  fail "$*"
}

start_engine() {
  if engine_ok; then
    step "engine: Docker $(docker info --format '{{.ServerVersion}}' 2>/dev/null) answers"
    return
  fi
  if ! command -v dockerd >/dev/null 2>&1; then
    step "engine: none answers; installing Debian's docker.io"
    as_root true 2>/dev/null || no_engine "no Docker engine answers and installing one needs root (or sudo): install Docker Engine, or run this as root"
    as_root apt-get update -qq || no_engine "apt-get update failed: install Docker Engine by hand, then re-run"
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq docker.io >/dev/null ||
      no_engine "apt-get install docker.io failed (see above): install Docker Engine by hand, then re-run"
  fi
  [ "$(id -u)" = 0 ] || no_engine "dockerd is installed but not running, and starting it needs root: start it (e.g. sudo systemctl start docker) and re-run"
  step "engine: starting dockerd (host networking only: --bridge=none --iptables=false --ip6tables=false); log $DOCKERD_LOG"
  # setsid: the daemon outlives this script and npm; `npm run docker:setup -- stop` (or .ci/run) stops it.
  setsid dockerd --bridge=none --iptables=false --ip6tables=false >>"$DOCKERD_LOG" 2>&1 </dev/null &
  echo $! >"$DOCKERD_PID"
  local rc=0
  wait_up "docker-setup: dockerd" "$(cat "$DOCKERD_PID")" "$START_WAIT_S" "$DOCKERD_LOG" engine_ok || rc=$?
  if [ "$rc" = 1 ]; then
    rm -f "$DOCKERD_PID"
    no_engine "dockerd exited at start (last lines above): this machine cannot run a Docker engine (a container without the privileges for namespaces/overlayfs?); use the local stack (npm run stack:up)"
  fi
  [ "$rc" = 0 ] || no_engine "dockerd did not answer within ${START_WAIT_S}s (see $DOCKERD_LOG)"
  step "engine: Docker $(docker info --format '{{.ServerVersion}}') started (pid $(cat "$DOCKERD_PID"))"
}

install_compose() {
  if compose_ok; then
    step "compose: $(docker compose version) already installed"
    return
  fi
  if [ ! -x "$COMPOSE_CACHE" ]; then
    command -v go >/dev/null 2>&1 || fail "the Compose v2 plugin is missing and Go is needed to build it: install Go >= 1.21 (or Docker's docker-compose-plugin) and re-run"
    step "compose: building github.com/docker/compose/v2 $COMPOSE_VERSION (first time: a few minutes)"
    local gobin
    gobin="$(mktemp -d)"
    GOBIN="$gobin" go install -trimpath \
      -ldflags "-s -w -X github.com/docker/compose/v2/internal.Version=$COMPOSE_VERSION" \
      "github.com/docker/compose/v2/cmd@$COMPOSE_VERSION" ||
      fail "building docker compose $COMPOSE_VERSION failed (see above)"
    mkdir -p "$CACHE"
    mv "$gobin/cmd" "$COMPOSE_CACHE"
    rm -rf "$gobin"
  fi
  mkdir -p "$PLUGIN_DIR"
  cp "$COMPOSE_CACHE" "$PLUGIN_DIR/docker-compose"
  compose_ok || fail "docker compose does not answer after installing $PLUGIN_DIR/docker-compose"
  step "compose: $(docker compose version) ($PLUGIN_DIR/docker-compose)"
}

stop_engine() {
  if [ -f "$DOCKERD_PID" ] && kill -0 "$(cat "$DOCKERD_PID")" 2>/dev/null; then
    local pid
    pid="$(cat "$DOCKERD_PID")"
    kill "$pid"
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    rm -f "$DOCKERD_PID"
    echo "docker-setup: stopped dockerd (pid $pid)"
  else
    echo "docker-setup: no dockerd started by this script runs"
  fi
}

case "${1:-setup}" in
setup)
  start_engine
  install_compose
  bash "$root/scripts/docker-images.sh"
  ;;
engine)
  start_engine
  install_compose
  ;;
stop) stop_engine ;;
status)
  if engine_ok; then echo "engine: Docker $(docker info --format '{{.ServerVersion}}')"; else echo "engine: none answers"; fi
  if engine_ok && compose_ok; then echo "compose: $(docker compose version --short)"; else echo "compose: missing"; fi
  ;;
*) fail "unknown subcommand ${1}: use setup, engine, stop or status" ;;
esac
