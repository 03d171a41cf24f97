#!/usr/bin/env bash
# Local stack without Docker: etcd on 127.0.0.1:2379 and dtm (go-zero driver, boltdb) in the background.
#   up      start what is not already answering, wait until both answer, print ports and logs
#   down    stop exactly the processes `up` started (pid files in .stack/)
#   status  show what answers
#   etcd | dtm   run that server in the foreground (what `npm start` does under concurrently)
#   wait    wait until etcd and dtm answer and dtm is registered
# Opt-in etcd security (docs/etcd-security.md), for `up`, `etcd` and `dtm` alike:
#   STACK_ETCD_AUTH=1   etcd with authentication: user root, password $STACK_ETCD_PASS (default dtm-gozero);
#                       dtm reaches it the way its go-zero driver allows, Target ...?user=root&password=...
#   STACK_ETCD_TLS=1    etcd over TLS with client certificates, made at start into .stack/certs (never committed);
#                       dtm's driver has no TLS setting, so dtm then registers nowhere: use --dtm localhost:36790
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
state="$root/.stack"
ETCD_BIN="${ETCD_BIN:-$(command -v etcd || true)}"
DTM_BIN="${DTM_BIN:-$root/.cache/bin/dtm}"
DTM_CONF="$root/infra/dtm/config.yml"
DTM_HTTP="http://127.0.0.1:36789"
WAIT_S="${STACK_WAIT_S:-30}"
AUTH="${STACK_ETCD_AUTH:-}"
TLS="${STACK_ETCD_TLS:-}"
PASS="${STACK_ETCD_PASS:-dtm-gozero}"
CERTS="$state/certs"
# One data dir per mode: an etcd with authentication enabled stays so, and must not be reused by the plain mode.
ETCD_DATA="$state/etcd-data${AUTH:+-auth}${TLS:+-tls}"
ETCD_URL="http://127.0.0.1:2379"
tls_flags=()
if [ -n "$TLS" ]; then
  ETCD_URL="https://127.0.0.1:2379"
  tls_flags=(--cacert "$CERTS/ca.pem" --cert "$CERTS/client.pem" --key "$CERTS/client-key.pem")
fi
ctl() { ETCDCTL_API=3 etcdctl --endpoints="$ETCD_URL" --command-timeout=2s "${tls_flags[@]}" "$@"; }
ctl_auth() { if [ -n "$AUTH" ]; then ctl --user "root:$PASS" "$@"; else ctl "$@"; fi; }

etcd_ok() { curl -fsS -m 2 "${tls_flags[@]}" "$ETCD_URL/health" 2>/dev/null | grep -q '"health":"true"'; }
dtm_ok() { curl -fsS -m 2 "$DTM_HTTP/api/ping" 2>/dev/null | grep -q pong; }
dtm_registered() { [ -n "$TLS" ] || ctl_auth get --prefix dtmservice/ --print-value-only 2>/dev/null | grep -q .; }
# The first start with STACK_ETCD_AUTH creates root and enables authentication (kept in .stack/etcd-data).
enable_auth() {
  [ -n "$AUTH" ] || return 0
  ctl_auth auth status 2>/dev/null | grep -q 'Authentication Status: true' && return 0
  ctl user add "root:$PASS" >/dev/null && ctl user grant-role root root >/dev/null && ctl auth enable >/dev/null
  echo "etcd: authentication enabled (user root)"
}
# dtm's go-zero driver takes the etcd account from its Target's query and registers it for exactly the hosts
# written there; dtm's branch calls resolve etcd://<hosts>/... with it only when <hosts> are spelled the same,
# so the Target names 127.0.0.1:2379, the hosts of the apps' Etcd.Hosts (and so of the branch URLs).
dtm_conf() {
  if [ -z "$AUTH$TLS" ]; then echo "$DTM_CONF"; return; fi
  local target=""
  if [ -z "$TLS" ]; then target="etcd://127.0.0.1:2379/dtmservice?user=root\\&password=$PASS"; fi
  sed "s|^  Target: .*|  Target: $target|" "$DTM_CONF" >"$state/dtm-config.yml"
  echo "$state/dtm-config.yml"
}
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
alive() { [ -f "$state/$1.pid" ] && kill -0 "$(cat "$state/$1.pid")" 2>/dev/null; }

wait_for() { # name check-fn log
  local i
  for ((i = 0; i < WAIT_S * 4; i++)); do
    if "$2"; then return 0; fi
    if ! alive "$1"; then
      echo "stack: $1 exited during start-up; last lines of $3:" >&2
      tail -n 20 "$3" >&2 || true
      return 1
    fi
    sleep 0.25
  done
  echo "stack: $1 did not answer within ${WAIT_S}s; see $3" >&2
  return 1
}

run_etcd() {
  [ -n "$ETCD_BIN" ] || { echo "stack: etcd is not installed; run: npm run setup" >&2; exit 1; }
  mkdir -p "$ETCD_DATA"
  local sec=()
  if [ -n "$TLS" ]; then
    [ -f "$CERTS/ca.pem" ] || bash "$root/libs/testkit/scripts/etcd-certs.sh" "$CERTS"
    sec=(--cert-file "$CERTS/server.pem" --key-file "$CERTS/server-key.pem" --trusted-ca-file "$CERTS/ca.pem" --client-cert-auth)
  fi
  exec "$ETCD_BIN" --name dtm-gozero-ts --data-dir "$ETCD_DATA" "${sec[@]}" \
    --listen-client-urls "$ETCD_URL" --advertise-client-urls "$ETCD_URL" \
    --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
    --initial-cluster dtm-gozero-ts=http://127.0.0.1:2380
}

run_dtm() {
  [ -x "$DTM_BIN" ] || { echo "stack: dtm is not built at $DTM_BIN; run: npm run setup" >&2; exit 1; }
  mkdir -p "$state/dtm"
  cd "$state/dtm" # boltdb keeps dtm.bolt in the working directory
  DTM_CONF="$(dtm_conf)" # the shared file, or its copy with the auth/TLS Target
  exec "$DTM_BIN" -c "$DTM_CONF"
}

wait_ready() {
  local i
  for ((i = 0; i < WAIT_S * 4; i++)); do
    if etcd_ok && dtm_ok && dtm_registered; then return 0; fi
    sleep 0.25
  done
  echo "stack: etcd and dtm were not both up (and dtm registered) within ${WAIT_S}s" >&2
  return 1
}

up() {
  mkdir -p "$ETCD_DATA" "$state/dtm"
  if etcd_ok; then
    echo "etcd: already answering at $ETCD_URL (left as it is)"
  else
    [ -n "$ETCD_BIN" ] || { echo "stack: etcd is not installed; run: npm run setup" >&2; exit 1; }
    if port_busy 2379; then echo "stack: port 2379 is taken by something that is not a healthy etcd; free it and retry" >&2; exit 1; fi
    setsid bash "$0" etcd >"$state/etcd.log" 2>&1 &
    echo $! >"$state/etcd.pid"
    wait_for etcd etcd_ok "$state/etcd.log"
    echo "etcd: started (pid $(cat "$state/etcd.pid")) at $ETCD_URL, log $state/etcd.log"
  fi
  enable_auth
  if [ -n "$TLS" ]; then echo "etcd: TLS; Etcd.CertFile $CERTS/client.pem, CertKeyFile $CERTS/client-key.pem, CACertFile $CERTS/ca.pem"; fi
  if dtm_ok; then
    echo "dtm: already answering at $DTM_HTTP (left as it is)"
  else
    [ -x "$DTM_BIN" ] || { echo "stack: dtm is not built at $DTM_BIN; run: npm run setup" >&2; exit 1; }
    for p in 36789 36790; do
      if port_busy "$p"; then echo "stack: port $p is taken by something that is not dtm; free it and retry" >&2; exit 1; fi
    done
    setsid bash "$0" dtm >"$state/dtm.log" 2>&1 &
    echo $! >"$state/dtm.pid"
    wait_for dtm dtm_ok "$state/dtm.log"
    echo "dtm: started (pid $(cat "$state/dtm.pid")) grpc localhost:36790, http $DTM_HTTP, log $state/dtm.log"
  fi
  # dtm registers itself ~100 ms after listening; wait so that clients resolving dtmservice find it.
  local i
  for ((i = 0; i < 40; i++)); do dtm_registered && break; sleep 0.25; done
  dtm_registered || { echo "stack: dtm answers but is not registered under dtmservice/ in etcd; check MicroService in $(dtm_conf)" >&2; exit 1; }
  if [ -n "$TLS" ]; then echo "stack: dtm's go-zero driver has no etcd TLS setting, so dtm is not registered; use npm run app -- --dtm localhost:36790"; fi
  echo "stack: up — etcd 127.0.0.1:2379, dtm grpc localhost:36790 (registered as etcd://localhost:2379/dtmservice), dtm http $DTM_HTTP"
}

stop_one() { # name
  local f="$state/$1.pid" pid i
  [ -f "$f" ] || return 0
  pid="$(cat "$f")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 40; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    echo "$1: stopped (pid $pid)"
  fi
  rm -f "$f"
}

down() {
  stop_one dtm
  stop_one etcd
  echo "stack: down"
}

status() {
  if etcd_ok; then echo "etcd: up at $ETCD_URL$(alive etcd && echo " (ours, pid $(cat "$state/etcd.pid"))")"; else echo "etcd: down"; fi
  if dtm_ok; then echo "dtm: up at $DTM_HTTP$(alive dtm && echo " (ours, pid $(cat "$state/dtm.pid"))")"; else echo "dtm: down"; fi
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  etcd) run_etcd ;;
  dtm) run_dtm ;;
  wait) wait_ready ;;
  *) echo "usage: stack.sh up|down|status|etcd|dtm|wait" >&2; exit 2 ;;
esac
